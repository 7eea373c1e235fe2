using Petition.Signing;

namespace Petition.Signing.Tests;

public sealed class DedupKeyTests
{
    private readonly DedupKeyHasher _hasher = new("a-test-secret-of-enough-length");

    [Theory]
    [InlineData("Ada@Example.org", "ada@example.org")]
    [InlineData("  ada@example.org\t", "ada@example.org")]
    [InlineData("ADA@EXAMPLE.ORG", "ada@example.org")]
    [InlineData("jose\u0301@example.org", "jos\u00E9@example.org")]
    public void Spellings_of_the_same_address_share_a_key(string a, string b) =>
        Assert.Equal(_hasher.KeyFor(a), _hasher.KeyFor(b));

    [Fact]
    public void Plus_tags_and_dots_are_kept_distinct() =>
        Assert.NotEqual(_hasher.KeyFor("ada+x@example.org"), _hasher.KeyFor("ada@example.org"));

    [Fact]
    public void Key_depends_on_the_secret_and_is_not_the_email()
    {
        var key = _hasher.KeyFor("ada@example.org");

        Assert.Equal(32, key.Length);
        Assert.NotEqual(key, new DedupKeyHasher("another-secret-of-enough-length").KeyFor("ada@example.org"));
        Assert.DoesNotContain("ada", System.Text.Encoding.UTF8.GetString(key), StringComparison.Ordinal);
    }

    [Fact]
    public void Short_secret_is_refused() => Assert.Throws<ArgumentException>(() => new DedupKeyHasher("short"));
}

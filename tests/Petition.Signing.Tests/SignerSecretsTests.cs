using System.Security.Cryptography;
using System.Text;

namespace Petition.Signing.Tests;

/// <summary>The contact-email encryption and the withdrawal tokens.</summary>
public sealed class SignerSecretsTests
{
    private readonly ContactEmailProtector _protector = new("a-contact-key-of-enough-length");
    private readonly WithdrawalTokens _tokens = new("a-test-secret-of-enough-length");

    [Fact]
    public void A_contact_email_comes_back_only_with_the_same_key_and_is_not_readable_at_rest()
    {
        var sealedBox = _protector.Protect("ada@example.org");

        Assert.Equal("ada@example.org", _protector.Unprotect(sealedBox));
        Assert.DoesNotContain("ada", Encoding.UTF8.GetString(sealedBox), StringComparison.Ordinal);
        Assert.NotEqual(sealedBox, _protector.Protect("ada@example.org")); // a fresh nonce each time
        Assert.ThrowsAny<CryptographicException>(() => new ContactEmailProtector("another-contact-key-of-length").Unprotect(sealedBox));
    }

    [Fact]
    public void An_altered_contact_email_is_refused_not_misread()
    {
        var sealedBox = _protector.Protect("ada@example.org");
        sealedBox[^1] ^= 1;

        Assert.ThrowsAny<CryptographicException>(() => _protector.Unprotect(sealedBox));
    }

    [Fact]
    public void A_withdrawal_token_fits_only_its_signature_and_secret()
    {
        var id = Guid.CreateVersion7();
        var token = _tokens.For(id);

        Assert.True(_tokens.Verify(id, token));
        Assert.False(_tokens.Verify(Guid.CreateVersion7(), token));
        Assert.False(new WithdrawalTokens("another-secret-of-enough-length").Verify(id, token));
        Assert.False(_tokens.Verify(id, token[..^1] + (token[^1] == 'A' ? 'B' : 'A')));
        Assert.False(_tokens.Verify(id, ""));
        Assert.False(_tokens.Verify(id, "not base64 !"));
        Assert.False(_tokens.Verify(id, new string('A', 500)));
    }

    [Fact]
    public void The_withdrawal_key_is_not_the_dedup_key()
    {
        // Both come from the dedup secret; HKDF keeps them apart, so a token reveals nothing of dedup keys.
        var secret = "a-test-secret-of-enough-length";
        var id = Guid.CreateVersion7();
        var plainMac = Convert.ToBase64String(HMACSHA256.HashData(Encoding.UTF8.GetBytes(secret), id.ToByteArray()));

        Assert.NotEqual(plainMac.TrimEnd('=').Replace('+', '-').Replace('/', '_'), new WithdrawalTokens(secret).For(id));
    }
}

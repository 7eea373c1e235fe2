using System.Security.Cryptography;
using System.Text;

namespace Petition.Signing.Tests;

/// <summary>The contact-email encryption and the withdrawal tokens.</summary>
public sealed class SignerSecretsTests
{
    private readonly ContactEmailProtector _protector = new("a-contact-key-of-enough-length");
    private readonly WithdrawalTokens _tokens = new("a-test-secret-of-enough-length");

    [Fact]
    public void A_contact_email_opens_only_with_the_same_key_and_signature_and_is_not_readable_at_rest()
    {
        var id = Guid.CreateVersion7();
        var sealedBox = _protector.Protect("ada@example.org", id);

        Assert.Equal("ada@example.org", _protector.TryUnprotect(sealedBox, id));
        Assert.DoesNotContain("ada", Encoding.UTF8.GetString(sealedBox), StringComparison.Ordinal);
        Assert.NotEqual(sealedBox, _protector.Protect("ada@example.org", id)); // a fresh nonce each time
        Assert.Null(new ContactEmailProtector("another-contact-key-of-length").TryUnprotect(sealedBox, id));
        // Copied onto another signature's row, it does not open.
        Assert.Null(_protector.TryUnprotect(sealedBox, Guid.CreateVersion7()));
    }

    [Fact]
    public void An_altered_or_truncated_contact_email_is_refused_not_misread()
    {
        var id = Guid.CreateVersion7();
        var sealedBox = _protector.Protect("ada@example.org", id);
        var altered = (byte[])sealedBox.Clone();
        altered[^1] ^= 1;

        Assert.Null(_protector.TryUnprotect(altered, id));
        Assert.Null(_protector.TryUnprotect(sealedBox[..10], id));
        Assert.Null(_protector.TryUnprotect([2, .. sealedBox[1..]], id)); // an unknown key version
    }

    [Fact]
    public void A_withdrawal_token_fits_only_its_signature_and_secret()
    {
        var id = Guid.CreateVersion7();
        var token = _tokens.For(id);

        Assert.True(_tokens.Verify(id, token));
        Assert.False(_tokens.Verify(Guid.CreateVersion7(), token));
        Assert.False(new WithdrawalTokens("another-secret-of-enough-length").Verify(id, token));
        // The first character: the last one also carries two unused bits, which a decoder may ignore.
        Assert.False(_tokens.Verify(id, (token[0] == 'A' ? 'B' : 'A') + token[1..]));
        Assert.False(_tokens.Verify(id, ""));
        Assert.False(_tokens.Verify(id, "not base64 !"));
        Assert.False(_tokens.Verify(id, new string('A', 500)));
    }

    [Fact]
    public void A_withdrawal_token_is_not_an_hmac_under_the_dedup_secret_itself()
    {
        // Both come from the dedup secret; HKDF keeps them apart, so a token reveals nothing of dedup keys.
        var secret = "a-test-secret-of-enough-length";
        var id = Guid.CreateVersion7();
        var plainMac = Convert.ToBase64String(HMACSHA256.HashData(Encoding.UTF8.GetBytes(secret), id.ToByteArray()));

        Assert.NotEqual(plainMac.TrimEnd('=').Replace('+', '-').Replace('/', '_'), new WithdrawalTokens(secret).For(id));
    }
}

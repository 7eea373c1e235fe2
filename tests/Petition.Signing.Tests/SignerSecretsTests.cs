using System.Security.Cryptography;
using System.Text;

namespace Petition.Signing.Tests;

/// <summary>The contact-email encryption, and the withdrawal and confirmation tokens.</summary>
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

    [Fact]
    public void A_confirmation_token_confirms_only_its_own_signature_within_seven_days_of_signing()
    {
        var tokens = new ConfirmationTokens("a-test-secret-of-enough-length", TimeSpan.FromDays(7));
        var signedAt = new DateTimeOffset(2026, 12, 1, 12, 0, 0, TimeSpan.Zero);
        var id = Guid.CreateVersion7(signedAt);
        var token = tokens.For(id);

        Assert.Equal(ConfirmationCheck.Valid, tokens.Check(id, token, signedAt.AddMinutes(1)));
        Assert.Equal(ConfirmationCheck.Valid, tokens.Check(id, token, signedAt.AddDays(7)));
        Assert.Equal(ConfirmationCheck.Expired, tokens.Check(id, token, signedAt.AddDays(7).AddMilliseconds(1)));
        Assert.Equal(ConfirmationCheck.Forged, tokens.Check(Guid.CreateVersion7(signedAt), token, signedAt));
        Assert.Equal(ConfirmationCheck.Forged, tokens.Check(id, (token[0] == 'A' ? 'B' : 'A') + token[1..], signedAt));
        Assert.Equal(ConfirmationCheck.Forged, tokens.Check(id, null, signedAt));
        // An id we cannot have minted (not a UUIDv7) has no age: its token, were one ever made, is expired.
        var notOurs = Guid.NewGuid();
        Assert.Equal(ConfirmationCheck.Expired, tokens.Check(notOurs, tokens.For(notOurs), signedAt));
        // Expired or not, a forged token is told as forged: expiry is only ever said of a real token.
        Assert.Equal(ConfirmationCheck.Forged, tokens.Check(id, tokens.For(Guid.CreateVersion7()), signedAt.AddDays(30)));
    }

    [Fact]
    public void A_withdrawal_token_is_no_confirmation_token_and_the_reverse()
    {
        var secret = "a-test-secret-of-enough-length";
        var confirmations = new ConfirmationTokens(secret, TimeSpan.FromDays(7));
        var id = Guid.CreateVersion7();

        Assert.Equal(ConfirmationCheck.Forged, confirmations.Check(id, new WithdrawalTokens(secret).For(id), DateTimeOffset.UtcNow));
        Assert.False(new WithdrawalTokens(secret).Verify(id, confirmations.For(id)));
    }

    [Fact]
    public void A_signature_id_tells_when_it_was_minted_and_an_id_of_another_version_tells_nothing()
    {
        var at = new DateTimeOffset(2026, 12, 1, 12, 0, 0, 123, TimeSpan.Zero);

        Assert.Equal(at.ToUnixTimeMilliseconds(), SignatureIds.MintedAtUnixMs(Guid.CreateVersion7(at)));
        Assert.Null(SignatureIds.MintedAtUnixMs(Guid.NewGuid()));
        Assert.Null(SignatureIds.MintedAtUnixMs(Guid.Empty));
    }
}

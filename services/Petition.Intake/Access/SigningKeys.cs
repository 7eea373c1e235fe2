using Microsoft.Extensions.Options;
using Petition.Signing;

namespace Petition.Intake.Access;

/// <summary>The intake's keyed operations on signers' data, each from its secret in configuration.</summary>
internal sealed class SigningKeys(IOptions<IntakeOptions> options)
{
    /// <summary>Email to dedup key (HMAC): the only form in which an email reaches the queue without consent.</summary>
    public DedupKeyHasher Dedup { get; } = new(options.Value.DedupSecret);

    /// <summary>Encrypts a consenting signer's email, and decrypts it for the contacts export.</summary>
    public ContactEmailProtector Contact { get; } = new(options.Value.ContactEmailKey);

    /// <summary>Seals a signer's email for the mailer (<c>AcceptedSignature.MailTo</c>).</summary>
    public ContactEmailProtector Mail { get; } = ContactEmailProtector.ForMail(options.Value.DedupSecret);

    /// <summary>Confirmation tokens (the mailed link), keyed from the dedup secret; they live as long as the option says.</summary>
    public ConfirmationTokens Confirmation { get; } = new(options.Value.DedupSecret, options.Value.ConfirmationLifetime);

    /// <summary>Withdrawal tokens, keyed from the dedup secret.</summary>
    public WithdrawalTokens Withdrawal { get; } = new(options.Value.DedupSecret);
}

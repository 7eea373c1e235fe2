namespace Petition.Contracts;

/// <summary>
/// Command sent by a worker once signatures awaiting confirmation are committed: mail their signers. Many mails to a
/// message, as many signatures go to one: a broker message per mail cost RabbitMQ three times its CPU per signature
/// (measured). Each mail is its own request to the mailer, sent once however often the message is delivered.
/// </summary>
public sealed record SendSignerMails
{
    /// <summary>The mails, each to one signer.</summary>
    public required IReadOnlyList<SendSignerMail> Mails { get; init; }
}

/// <summary>
/// One signer's mail. It names the signature the mail's links act on (the one submitted, or, for a repeat, the
/// earlier signature of that email) and carries the email only sealed for the mailer.
/// </summary>
public sealed record SendSignerMail
{
    /// <summary>The signature submitted: the mail's identity (a redelivery of this command is the same mail).</summary>
    public required Guid RequestId { get; init; }

    /// <summary>The signature the links confirm or withdraw.</summary>
    public required Guid SignatureId { get; init; }

    /// <summary>The petition signed.</summary>
    public required Guid PetitionId { get; init; }

    /// <summary>Which mail.</summary>
    public required SignerMailKind Kind { get; init; }

    /// <summary>The email, sealed by the intake for the mailer and bound to <see cref="RequestId"/>.</summary>
    public required byte[] MailTo { get; init; }

    /// <summary>The keyed hash of the email, which the mailer's caps per address go by.</summary>
    public required byte[] DedupKey { get; init; }
}

/// <summary>What a signer's mail says.</summary>
public enum SignerMailKind
{
    /// <summary>"Confirm your signature": a confirm link and a "this wasn't me" link for <see cref="SendSignerMail.SignatureId"/>.</summary>
    Confirm,

    /// <summary>"You have already signed": a withdrawal link for the signature that counts.</summary>
    AlreadySigned,
}

/// <summary>Command sent by the intake when a signer confirms (a POST from the confirm page): count these signatures.</summary>
public sealed record ConfirmSignatures
{
    /// <summary>The signatures confirmed, each checked against its token by the intake.</summary>
    public required IReadOnlyList<Guid> SignatureIds { get; init; }
}

namespace Petition.Contracts;

/// <summary>
/// Command sent by the intake to the signature queue: a micro-batch of accepted signatures.
/// A signature is accepted (202) only once the broker has confirmed the message that holds it.
/// </summary>
public sealed record StoreSignatures
{
    /// <summary>Identifies this micro-batch in logs and traces.</summary>
    public required Guid BatchId { get; init; }

    /// <summary>The accepted signatures, already validated and normalised by the intake.</summary>
    public required IReadOnlyList<AcceptedSignature> Signatures { get; init; }
}

/// <summary>
/// One validated, normalised signature. It carries no email in clear: its keyed dedup hash, and the encrypted
/// email only when the signer consented to be contacted.
/// </summary>
public sealed record AcceptedSignature
{
    /// <summary>Assigned by the intake; the primary key of the stored row, so a redelivery is recognised.</summary>
    public required Guid SignatureId { get; init; }

    /// <summary>The petition signed.</summary>
    public required Guid PetitionId { get; init; }

    /// <summary>HMAC-SHA256 of the canonical email: the deduplication key within a petition.</summary>
    public required byte[] DedupKey { get; init; }

    /// <summary>The signer's name, NFC-normalised.</summary>
    public required string Name { get; init; }

    /// <summary>ISO 3166-1 alpha-2, upper case.</summary>
    public required string Country { get; init; }

    /// <summary>Optional postal code, normalised to upper case.</summary>
    public string? PostalCode { get; init; }

    /// <summary>Where the signature came from.</summary>
    public required SignatureSource Source { get; init; }

    /// <summary>When the intake accepted it.</summary>
    public required DateTimeOffset SubmittedAt { get; init; }

    /// <summary>The signer's IP address (the visitor's, when a partner site signs for them), for strike-outs by range.</summary>
    public string? ClientAddress { get; init; }

    /// <summary>The email's domain, lower case, for strike-outs of throwaway-mail domains.</summary>
    public string? EmailDomain { get; init; }

    /// <summary>The email, AES-GCM encrypted, present only when the signer agreed to be contacted.</summary>
    public byte[]? ContactEmail { get; init; }

    /// <summary>
    /// True when the signer is still to confirm it (by email): stored and deduplicated like any other, but in the
    /// petition's pending figure, not its total, until confirmed. False (as in messages from before it existed): counted.
    /// </summary>
    public bool AwaitingConfirmation { get; init; }

    /// <summary>
    /// The signer's email sealed for the mailer alone (AES-GCM under a key the worker does not hold, bound to this
    /// signature's id), present only when a mail is due: the signature awaits confirmation. The worker passes it on
    /// in <see cref="SendSignerMail"/> after the commit and never stores it.
    /// </summary>
    public byte[]? MailTo { get; init; }

    /// <summary>W3C traceparent of the request that submitted it when that request is traced, so a batch can link back to it.</summary>
    public string? TraceParent { get; init; }
}

/// <summary>Where a signature was collected.</summary>
public enum SignatureSource
{
    /// <summary>Signed on a web form.</summary>
    Online,

    /// <summary>Paper, fax or street signature typed in through the bulk import.</summary>
    Offline,
}

namespace Petition.Intake;

/// <summary>Intake settings (section "Petition"); secrets come from the environment, never the repository.</summary>
public sealed class IntakeOptions
{
    /// <summary>The HMAC secret of the dedup key; the same in every intake, for the life of the data.</summary>
    public string DedupSecret { get; set; } = string.Empty;

    /// <summary>The secret the emails of signers who agreed to be contacted are encrypted with (AES-GCM, key by HKDF).</summary>
    public string ContactEmailKey { get; set; } = string.Empty;

    /// <summary>How long a signer has to confirm by the mailed link; past it the signature expires and is purged (the worker's Retention:ConfirmationLifetime must agree).</summary>
    public TimeSpan ConfirmationLifetime { get; set; } = TimeSpan.FromDays(7);

    /// <summary>Most rows one bulk import may hold.</summary>
    public int MaxImportRows { get; set; } = 10_000;
}

/// <summary>How concurrent signatures are coalesced into broker messages (section "Coalescing").</summary>
public sealed class CoalescingOptions
{
    /// <summary>Most signatures in one message.</summary>
    public int MaxSignaturesPerMessage { get; set; } = 500;

    /// <summary>How long the first signature of a message waits for company before it is sent.</summary>
    public TimeSpan Linger { get; set; } = TimeSpan.FromMilliseconds(5);

    /// <summary>Messages awaiting their confirm at once; more signatures gather meanwhile.</summary>
    public int MaxInFlight { get; set; } = 8;

    /// <summary>Signatures waiting to be sent at most; past it, 503 (admission control should refuse long before).</summary>
    public int QueueCapacity { get; set; } = 50_000;

    /// <summary>
    /// Admission control: a signature is refused (503 + Retry-After) when those already waiting would take
    /// longer than this to be confirmed at the measured rate.
    /// </summary>
    public TimeSpan AdmissionBudget { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>The confirm rate assumed until one is measured, and the least ever assumed, per second.</summary>
    public double MinConfirmRate { get; set; } = 1_000;
}

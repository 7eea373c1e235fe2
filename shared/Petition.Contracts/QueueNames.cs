namespace Petition.Contracts;

/// <summary>The broker names every service agrees on, in one place.</summary>
public static class QueueNames
{
    /// <summary>The durable queue of <see cref="StoreSignatures"/> commands, consumed by the workers.</summary>
    public const string StoreSignatures = "store-signatures";

    /// <summary>The durable queue of <see cref="ForgetSigners"/> commands, consumed by the workers.</summary>
    public const string ForgetSigners = "forget-signers";

    /// <summary>The durable queue of <see cref="SendSignerMails"/> commands, consumed by the mailers.</summary>
    public const string SendSignerMail = "send-signer-mail";

    /// <summary>The durable queue of <see cref="ConfirmSignatures"/> commands, consumed by the workers.</summary>
    public const string ConfirmSignatures = "confirm-signatures";
}

namespace Petition.Contracts;

/// <summary>
/// Command sent by the intake after a withdrawal or an erasure: the workers drop these signers from the
/// dedup cache, so nothing outside PostgreSQL still ties the signer's keyed email hash to the petition.
/// </summary>
public sealed record ForgetSigners
{
    /// <summary>The signers removed, each by petition and dedup key.</summary>
    public required IReadOnlyList<SignerToForget> Signers { get; init; }
}

/// <summary>One signer of one petition, by the keyed hash of their email.</summary>
public sealed record SignerToForget(Guid PetitionId, byte[] DedupKey);

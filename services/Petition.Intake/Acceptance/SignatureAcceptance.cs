using System.Diagnostics;
using System.Net;
using Petition.Contracts;
using Petition.Intake.Access;
using Petition.Intake.Petitions;
using Petition.Signing;

namespace Petition.Intake.Acceptance;

/// <summary>Whether a petition takes signatures now.</summary>
internal enum PetitionGate
{
    Open,

    /// <summary>The petitions or the access lists are not loaded yet: nothing can be judged.</summary>
    NotReady,

    NotFound,

    /// <summary>Closed by an admin, or past its closing time.</summary>
    Closed,
}

/// <summary>
/// The rules a signature passes between a valid form and the broker, whatever it came through (a web form, a
/// partner, an import): the petition must take signatures, the signature is minted with its keys (an email
/// leaves the intake only as its keyed hash, or encrypted with consent), and a blocked signer is refused.
/// </summary>
internal sealed class SignatureAcceptance(PetitionCatalog catalog, AccessLists access, SigningKeys keys, TimeProvider clock)
{
    public PetitionGate Gate(Guid petitionId)
    {
        if (!catalog.IsLoaded || !access.IsLoaded) return PetitionGate.NotReady;
        var petition = catalog.Find(petitionId);
        if (petition is null) return PetitionGate.NotFound;
        return petition.IsClosedAt(clock.GetUtcNow()) ? PetitionGate.Closed : PetitionGate.Open;
    }

    /// <summary>
    /// The signature as it is sent on, or, when a block refuses the signer, why (for the answer's detail).
    /// <paramref name="address"/> is null for paper signatures: their email and its domain can still be blocked.
    /// An online signature of a petition that asks for email confirmation awaits it, unless a partner key allowed to
    /// vouch for its signers sent it (<paramref name="vouched"/>); paper signatures were verified by the campaign office.
    /// </summary>
    public (AcceptedSignature? Signature, string? Refusal) Accept(ValidSignature valid, Guid petitionId, SignatureSource source, IPAddress? address, bool vouched = false)
    {
        var awaiting = source == SignatureSource.Online && !vouched && catalog.Find(petitionId) is { AsksForEmailConfirmation: true };
        var signature = Mint(valid, petitionId, source, address, awaiting);
        return access.Refusal(address, signature.EmailDomain!, signature.DedupKey) is { } blocked ? (null, blocked) : (signature, null);
    }

    /// <summary>The token that lets the signer alone withdraw the signature; never stored.</summary>
    public string WithdrawalTokenFor(AcceptedSignature signature) => keys.Withdrawal.For(signature.SignatureId);

    private AcceptedSignature Mint(ValidSignature valid, Guid petitionId, SignatureSource source, IPAddress? address, bool awaiting)
    {
        var signatureId = Guid.CreateVersion7();
        return new AcceptedSignature
        {
            SignatureId = signatureId,
            PetitionId = petitionId,
            DedupKey = keys.Dedup.KeyFor(valid.Email),
            ClientAddress = address?.ToString(),
            EmailDomain = valid.EmailDomain,
            // The email itself only for a signer who agreed to be contacted, and then only encrypted.
            ContactEmail = valid.ContactConsent ? keys.Contact.Protect(CanonicalEmail.Of(valid.Email), signatureId) : null,
            Name = valid.Name,
            Country = valid.Country,
            PostalCode = valid.PostalCode,
            Source = source,
            SubmittedAt = clock.GetUtcNow(),
            AwaitingConfirmation = awaiting,
            // The address the mail goes to, sealed for the mailer, never stored: the canonical one, the signer as the
            // dedup key knows them, so a repeat's mail (which carries the first signature's links) reaches that signer's
            // mailbox and no other one a case-sensitive host might tell apart.
            MailTo = awaiting ? keys.Mail.Protect(CanonicalEmail.Of(valid.Email), signatureId) : null,
            // Only a traced request's: an untraced one (most, when traces are sampled) would add its id to every
            // signature's message and a link to every batch span, for nothing (measured: a third more CPU).
            TraceParent = Activity.Current is { Recorded: true } request ? request.Id : null,
        };
    }
}

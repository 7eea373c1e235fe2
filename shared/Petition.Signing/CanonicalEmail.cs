using System.Text;

namespace Petition.Signing;

/// <summary>
/// The one rule deciding when two emails are the same signer, for deduplication.
/// </summary>
/// <remarks>
/// Canonical form: surrounding white space trimmed, Unicode NFC, lower-cased with the invariant culture.
/// Deliberately not applied: removing dots or "+tags" from the local part. Some providers treat those as
/// the same mailbox and some do not, so folding them would merge distinct signers.
/// </remarks>
public static class CanonicalEmail
{
    /// <summary>Returns the canonical form of an email address already known to be valid.</summary>
    public static string Of(string email) =>
        email.Trim().Normalize(NormalizationForm.FormC).ToLowerInvariant();

    /// <summary>The canonical domain of an email (or of a domain an admin typed, with or without the @).</summary>
    public static string DomainOf(string emailOrDomain)
    {
        var canonical = Of(emailOrDomain);
        return canonical[(canonical.LastIndexOf('@') + 1)..].TrimEnd('.');
    }
}

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

    /// <summary>
    /// The canonical domain of an email (or of a domain an admin typed, with or without the @), in its ASCII
    /// (IDNA, UTS 46) form, so "münchen.de" and "xn--mnchen-3ya.de", or full-width letters and plain ones,
    /// name one domain to block lists and strike-outs.
    /// </summary>
    public static string DomainOf(string emailOrDomain)
    {
        var canonical = Of(emailOrDomain);
        var domain = canonical[(canonical.LastIndexOf('@') + 1)..].TrimEnd('.');
        if (System.Text.Ascii.IsValid(domain)) return domain; // nearly every signer: already in ASCII form, lower case
        try
        {
            return Idna.GetAscii(domain).ToLowerInvariant();
        }
        catch (ArgumentException)
        {
            return domain; // not a valid IDN: compared as typed
        }
    }

    private static readonly System.Globalization.IdnMapping Idna = new() { UseStd3AsciiRules = false, AllowUnassigned = true };
}

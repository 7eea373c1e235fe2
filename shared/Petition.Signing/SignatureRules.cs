using System.Globalization;
using System.Text;

namespace Petition.Signing;

/// <summary>A signature that passed validation, in normalised form.</summary>
public sealed record ValidSignature(string Name, string Email, string Country, string? PostalCode, bool ContactConsent = false)
{
    /// <summary>The email's canonical domain, for block lists and strike-outs.</summary>
    public string EmailDomain => CanonicalEmail.DomainOf(Email);
}

/// <summary>The outcome of validating a <see cref="SignatureForm"/>: a signature or field errors.</summary>
public sealed record ValidationOutcome(ValidSignature? Signature, IReadOnlyDictionary<string, string[]> Errors)
{
    /// <summary>True when there are no field errors.</summary>
    public bool IsValid => Signature is not null;
}

/// <summary>
/// What a valid signature is, and its normal form. Every field error is reported at once, keyed by the
/// JSON field name, so a form can show them all.
/// </summary>
public static class SignatureRules
{
    /// <summary>Longest name accepted, in UTF-16 code units after normalisation.</summary>
    public const int MaxNameLength = 200;

    /// <summary>RFC 5321's limit on a forward path.</summary>
    public const int MaxEmailLength = 254;

    /// <summary>Longest postal code in use anywhere is 10 characters; leave room for spacing.</summary>
    public const int MaxPostalCodeLength = 16;

    /// <summary>Validates and normalises one signature.</summary>
    public static ValidationOutcome Validate(SignatureForm form)
    {
        ArgumentNullException.ThrowIfNull(form);
        var errors = new Dictionary<string, string[]>(StringComparer.Ordinal);

        var name = NormaliseName(form.Name, out var nameError);
        if (nameError is not null) errors["name"] = [nameError];

        var email = NormaliseEmail(form.Email, out var emailError);
        if (emailError is not null) errors["email"] = [emailError];

        var country = form.Country?.Trim().ToUpperInvariant();
        if (string.IsNullOrEmpty(country))
        {
            errors["country"] = ["Country is required."];
        }
        else if (!CountryCodes.All.Contains(country))
        {
            errors["country"] = ["Country must be an ISO 3166-1 alpha-2 code, such as GB, KR or BR."];
        }

        var postalCode = NormalisePostalCode(form.PostalCode, out var postalError);
        if (postalError is not null) errors["postalCode"] = [postalError];

        return errors.Count > 0
            ? new ValidationOutcome(null, errors)
            : new ValidationOutcome(new ValidSignature(name!, email!, country!, postalCode, form.ContactConsent), errors);
    }

    private static string? NormaliseName(string? raw, out string? error)
    {
        error = null;
        if (string.IsNullOrWhiteSpace(raw))
        {
            error = "Name is required.";
            return null;
        }

        if (!IsWellFormedUtf16(raw))
        {
            error = "Name contains an invalid character.";
            return null;
        }

        // Names come in any script; NFC makes "é" typed two ways the same, and Hangul jamo compose.
        var builder = new StringBuilder(raw.Length);
        var pendingSpace = false;
        var hasLetter = false;
        foreach (var rune in raw.Normalize(NormalizationForm.FormC).EnumerateRunes())
        {
            if (Rune.IsWhiteSpace(rune))
            {
                pendingSpace = builder.Length > 0;
                continue;
            }

            if (Rune.GetUnicodeCategory(rune) is UnicodeCategory.Control or UnicodeCategory.PrivateUse)
            {
                error = "Name must not contain control characters.";
                return null;
            }

            // Invisible format characters (zero-width space, bidi overrides that reorder what a list shows,
            // BOM, soft hyphen) are dropped; zero-width (non-)joiners stay, as Persian, Indic scripts and emoji need them.
            if (Rune.GetUnicodeCategory(rune) is UnicodeCategory.Format && rune.Value is not (0x200C or 0x200D)) continue;

            hasLetter |= Rune.IsLetter(rune);
            if (pendingSpace) builder.Append(' ');
            pendingSpace = false;
            builder.Append(rune.ToString());
        }

        if (!hasLetter)
        {
            error = "Name must contain at least one letter.";
            return null;
        }

        // A cell starting with one of these is a formula to a spreadsheet opening an export; no name starts so.
        if (builder[0] is '=' or '+' or '-' or '@')
        {
            error = "Name must not start with =, +, - or @.";
            return null;
        }

        if (builder.Length > MaxNameLength)
        {
            error = $"Name must be at most {MaxNameLength} characters.";
            return null;
        }

        return builder.ToString();
    }

    /// <summary>True when <paramref name="email"/> is an email a signature would be accepted with (for admin lookups by email).</summary>
    public static bool IsValidEmail([System.Diagnostics.CodeAnalysis.NotNullWhen(true)] string? email) => NormaliseEmail(email, out _) is not null;

    private static string? NormaliseEmail(string? raw, out string? error)
    {
        error = null;
        var email = raw?.Trim();
        if (string.IsNullOrEmpty(email))
        {
            error = "Email is required.";
            return null;
        }

        if (email.Length > MaxEmailLength || !IsWellFormedUtf16(email) || !LooksLikeEmail(email))
        {
            error = "Email must be a valid address, such as name@example.org.";
            return null;
        }

        return email.Normalize(NormalizationForm.FormC);
    }

    // Deliberately modest: one @, a non-empty local part without spaces or controls, and a domain of
    // dot-separated labels. Deliverability is the mail system's business, not a signature's.
    private static bool LooksLikeEmail(string email)
    {
        var at = email.IndexOf('@', StringComparison.Ordinal);
        if (at <= 0 || at != email.LastIndexOf('@') || at > 64) return false;

        foreach (var rune in email.EnumerateRunes())
        {
            // Invisible format characters too, in any plane (U+200B, tag characters U+E0020-E007F):
            // "a\u200Bb@x.org" would otherwise be a new signer each time.
            if (Rune.IsWhiteSpace(rune) || Rune.IsControl(rune) || Rune.GetUnicodeCategory(rune) == UnicodeCategory.Format
                || rune.Value is '<' or '>' or '(' or ')' or ',' or ';' or '"')
                return false;
        }

        var labels = email[(at + 1)..].Split('.');
        if (labels.Length < 2) return false;
        foreach (var label in labels)
        {
            if (label.Length is 0 or > 63 || label[0] == '-' || label[^1] == '-') return false;
            foreach (var c in label)
            {
                if (!char.IsLetterOrDigit(c) && c != '-') return false;
            }
        }

        return true;
    }

    private static string? NormalisePostalCode(string? raw, out string? error)
    {
        error = null;
        if (string.IsNullOrWhiteSpace(raw)) return null;

        var code = string.Join(' ', raw.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries)).ToUpperInvariant();
        if (code.Length > MaxPostalCodeLength)
        {
            error = $"Postal code must be at most {MaxPostalCodeLength} characters.";
            return null;
        }

        foreach (var c in code)
        {
            if (!char.IsAsciiLetterOrDigit(c) && c is not ' ' and not '-')
            {
                error = "Postal code may contain only letters, digits, spaces and hyphens.";
                return null;
            }
        }

        return code;
    }

    // A JSON string can carry a lone surrogate ("\ud800"); PostgreSQL would refuse it as UTF-8 later.
    private static bool IsWellFormedUtf16(string value)
    {
        for (var i = 0; i < value.Length;)
        {
            if (Rune.DecodeFromUtf16(value.AsSpan(i), out _, out var consumed) != System.Buffers.OperationStatus.Done)
                return false;
            i += consumed;
        }

        return true;
    }
}

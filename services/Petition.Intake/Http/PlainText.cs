namespace Petition.Intake.Http;

/// <summary>
/// Text an admin types (a title, a key's name, a block's reason): PostgreSQL refuses NUL and a lone
/// surrogate, and other control characters have no place in it either.
/// </summary>
internal static class PlainText
{
    public static bool Is(string text, bool allowLineBreaks = false)
    {
        for (var i = 0; i < text.Length; i++)
        {
            var c = text[i];
            if (char.IsControl(c) && !(allowLineBreaks && c is '\n' or '\r' or '\t')) return false;
            if (char.IsHighSurrogate(c) && (i + 1 == text.Length || !char.IsLowSurrogate(text[++i]))) return false;
            if (char.IsLowSurrogate(c)) return false;
        }

        return true;
    }
}

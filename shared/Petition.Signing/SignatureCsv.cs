using CsvHelper;

namespace Petition.Signing;

/// <summary>One data row of a signature import, with the line of the file it starts on.</summary>
public sealed record ImportRow(int Line, SignatureForm Form);

/// <summary>
/// Reads signature imports in CSV (RFC 4180, with a header row) and writes exports. Columns are matched by
/// name, in any order and case: name, email, country, and optionally postalCode (or postal_code, postcode,
/// zip). Imported names cannot start a formula (<see cref="SignatureRules"/>); exported cells cannot either.
/// </summary>
public static class SignatureCsv
{
    private static readonly string[] PostalCodeHeaders = ["postalcode", "postal_code", "postcode", "zip"];

    /// <summary>
    /// One cell of an export: a value a spreadsheet would run as a formula (starting with =, +, -, @, a tab
    /// or a carriage return) gets a leading apostrophe, so it shows as text; then RFC 4180 quoting.
    /// </summary>
    public static string Cell(string? value)
    {
        if (string.IsNullOrEmpty(value)) return "";
        if (value[0] is '=' or '+' or '-' or '@' or '\t' or '\r') value = "'" + value;
        return value.AsSpan().IndexOfAny(",\"\r\n") >= 0 || value[0] == ' ' || value[^1] == ' '
            ? "\"" + value.Replace("\"", "\"\"", StringComparison.Ordinal) + "\""
            : value;
    }

    /// <summary>One line of an export, cells made safe by <see cref="Cell"/>, ended by CRLF.</summary>
    public static string Line(params string?[] cells) => string.Join(',', cells.Select(Cell)) + "\r\n";

    /// <summary>Reads the rows; throws <see cref="FormatException"/> when the header or quoting is broken.</summary>
    public static IReadOnlyList<ImportRow> Read(TextReader text, int maxRows)
    {
        var options = new CsvReaderOptions
        {
            HasHeader = true,
            TrackLineNumbers = true,
            SkipEmptyLines = true,
            MalformedData = CsvMalformedDataHandling.Throw,
            FieldCountMismatch = CsvFieldCountHandling.Allow,
            IncludeValuesInExceptions = false, // the values are personal data
        };
        using var csv = CsvReader.Create(text, options, false);
        try
        {
            csv.ReadHeader();
            var header = csv.Headers.Select(h => h.Trim().ToLowerInvariant()).ToList();
            int Column(params string[] names) => header.FindIndex(names.Contains);
            var (name, email, country, postal) = (Column("name"), Column("email"), Column("country"), Column(PostalCodeHeaders));
            if (name < 0 || email < 0 || country < 0)
                throw new FormatException("The CSV header must name the columns name, email and country (postalCode is optional).");

            var rows = new List<ImportRow>();
            while (csv.Read())
            {
                if (rows.Count == maxRows)
                    throw new FormatException($"An import holds at most {maxRows} rows.");

                string? Field(int index) => index >= 0 && index < csv.FieldCount ? csv.GetString(index) : null;
                rows.Add(new ImportRow((int)csv.LineNumber, new SignatureForm(Field(name), Field(email), Field(country), Field(postal))));
            }

            return rows;
        }
        catch (CsvFormatException e)
        {
            throw new FormatException(e.Message, e);
        }
    }
}

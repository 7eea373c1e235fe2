using Petition.Signing;

namespace Petition.Signing.Tests;

public sealed class SignatureCsvTests
{
    private static IReadOnlyList<ImportRow> Read(string csv, int maxRows = 100) => SignatureCsv.Read(new StringReader(csv), maxRows);

    [Fact]
    public void Rows_carry_the_line_they_start_on_including_quoted_line_breaks()
    {
        var rows = Read("name,email,country,postalCode\r\n\"Smith, Jo\",jo@example.org,GB,SW1A 1AA\n\"Two\nLines\",two@example.org,IE,\nPat,pat@example.org,FR,75001\n");

        Assert.Equal([2, 3, 5], rows.Select(r => r.Line));
        Assert.Equal(new SignatureForm("Smith, Jo", "jo@example.org", "GB", "SW1A 1AA"), rows[0].Form);
        Assert.Equal("Two\nLines", rows[1].Form.Name);
    }

    [Fact]
    public void Columns_are_matched_by_name_in_any_order_and_case()
    {
        var rows = Read("Country,EMAIL,postal_code,Name\nKR,kim@example.org,04524,김민준\n");

        Assert.Equal(new SignatureForm("김민준", "kim@example.org", "KR", "04524"), rows.Single().Form);
    }

    [Fact]
    public void Missing_cells_read_as_missing_fields()
    {
        var row = Read("name,email,country\nOnly Name\n").Single();

        Assert.Equal(new SignatureForm("Only Name", null, null, null), row.Form);
    }

    [Theory]
    [InlineData("")]
    [InlineData("name,email\nA,a@example.org\n")]
    public void Missing_header_columns_are_a_format_error(string csv) => Assert.Throws<FormatException>(() => Read(csv));

    [Fact]
    public void Broken_quoting_is_a_format_error_naming_the_line()
    {
        var error = Assert.Throws<FormatException>(() => Read("name,email,country\nA,a@example.org,GB\nbad\"quote,b@example.org,GB\n"));

        Assert.Contains("line 3", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void More_rows_than_allowed_is_a_format_error()
    {
        Assert.Equal(2, Read("name,email,country\nA,a@x.org,GB\nB,b@x.org,GB\n", maxRows: 2).Count);
        Assert.Throws<FormatException>(() => Read("name,email,country\nA,a@x.org,GB\nB,b@x.org,GB\nC,c@x.org,GB\n", maxRows: 2));
    }

    [Theory]
    [InlineData("=SUM(A1:A9)", "'=SUM(A1:A9)")]
    [InlineData("+44 20 7946 0000", "'+44 20 7946 0000")]
    [InlineData("-2+3", "'-2+3")]
    [InlineData("@cmd", "'@cmd")]
    [InlineData("\t=1", "'\t=1")]
    [InlineData("=HYPERLINK(\"http://x\",\"y\")", "\"'=HYPERLINK(\"\"http://x\"\",\"\"y\"\")\"")]
    [InlineData("Ada, Countess", "\"Ada, Countess\"")]
    [InlineData("Line\nbreak", "\"Line\nbreak\"")]
    [InlineData("O'Brien-Ng", "O'Brien-Ng")]
    [InlineData(null, "")]
    public void Export_cells_cannot_start_a_formula_and_are_quoted_when_needed(string? value, string cell) =>
        Assert.Equal(cell, SignatureCsv.Cell(value));

    [Fact]
    public void An_export_line_joins_safe_cells_and_ends_in_crlf() =>
        Assert.Equal("a,'=b,\"c,d\"\r\n", SignatureCsv.Line("a", "=b", "c,d"));
}

using System.Text;
using Petition.Signing;

namespace Petition.Signing.Tests;

public sealed class SignatureRulesTests
{
    private static ValidationOutcome Validate(string? name = "Ada Lovelace", string? email = "ada@example.org", string? country = "GB", string? postalCode = null) =>
        SignatureRules.Validate(new SignatureForm(name, email, country, postalCode));

    [Fact]
    public void Valid_signature_is_normalised()
    {
        var outcome = Validate("  Ada   Lovelace ", "  Ada@Example.ORG ", " gb ", " sw1a  1aa ");

        Assert.True(outcome.IsValid);
        Assert.Equal(new ValidSignature("Ada Lovelace", "Ada@Example.ORG", "GB", "SW1A 1AA"), outcome.Signature);
    }

    [Fact]
    public void Hangul_typed_as_separate_jamo_is_composed_to_nfc()
    {
        // 한 as three conjoining jamo (U+1112 U+1161 U+11AB), 국 likewise.
        var decomposed = "\u1112\u1161\u11AB\u1100\u116E\u11A8 \uC0AC\uB78C";

        var outcome = Validate(decomposed);

        Assert.Equal("한국 사람", outcome.Signature!.Name);
        Assert.True(outcome.Signature.Name.IsNormalized(NormalizationForm.FormC));
    }

    [Theory]
    [InlineData("Анна Иванова")]
    [InlineData("李小龍")]
    [InlineData("José Ángel")]
    [InlineData("Zoë 🌻 Smith")]
    [InlineData("محمد علي")]
    [InlineData("O'Brien-Ng")]
    public void Names_in_any_script_are_accepted(string name) =>
        Assert.Equal(name, Validate(name).Signature?.Name);

    [Fact]
    public void Combining_marks_compose_so_both_spellings_are_equal()
    {
        var composed = Validate("Jos\u00E9").Signature!.Name;
        var combining = Validate("Jose\u0301").Signature!.Name;

        Assert.Equal(composed, combining);
    }

    [Theory]
    [InlineData(null, "Name is required.")]
    [InlineData("   ", "Name is required.")]
    [InlineData("🌻🌻", "Name must contain at least one letter.")]
    [InlineData("12345", "Name must contain at least one letter.")]
    [InlineData("Ada\u0000Lovelace", "Name must not contain control characters.")]
    [InlineData("=cmd|' /C calc'!A0", "Name must not start with =, +, - or @.")]
    [InlineData("@Ada", "Name must not start with =, +, - or @.")]
    [InlineData("Ada\u0007", "Name must not contain control characters.")]
    public void Invalid_names_are_rejected_with_a_reason(string? name, string message) =>
        Assert.Equal([message], Validate(name).Errors["name"]);

    [Fact]
    public void Lone_surrogates_are_rejected_as_invalid_text()
    {
        // Built at run time: a lone surrogate in an attribute argument is stored as U+FFFD.
        var name = "Ada" + (char)0xD800;

        Assert.Equal(["Name contains an invalid character."], Validate(name).Errors["name"]);
        Assert.True(Validate(email: "ada" + (char)0xDC00 + "@example.org").Errors.ContainsKey("email"));
    }

    [Fact]
    public void Name_longer_than_the_limit_is_rejected()
    {
        Assert.True(Validate(new string('a', SignatureRules.MaxNameLength)).IsValid);
        Assert.False(Validate(new string('a', SignatureRules.MaxNameLength + 1)).IsValid);
    }

    [Theory]
    [InlineData("Ada\u200B Lovelace", "Ada Lovelace")] // zero-width space
    [InlineData("\u202EecalevoL adA", "ecalevoL adA")] // right-to-left override, which would reorder how lists show it
    [InlineData("\u2066Ada\u2069 Lovelace\uFEFF", "Ada Lovelace")] // bidi isolates, byte order mark
    [InlineData("Ada Love\u00ADlace", "Ada Lovelace")] // soft hyphen
    [InlineData("\u0645\u06CC\u200C\u062E\u0648\u0627\u0647\u0645", "\u0645\u06CC\u200C\u062E\u0648\u0627\u0647\u0645")] // Persian keeps its zero-width non-joiner
    [InlineData("Ada \U0001F469\u200D\U0001F52C", "Ada \U0001F469\u200D\U0001F52C")] // and an emoji sequence its joiner
    public void Invisible_format_characters_are_dropped_from_names_but_joiners_stay(string name, string stored) =>
        Assert.Equal(stored, Validate(name).Signature!.Name);

    [Fact]
    public void A_name_of_nothing_but_invisible_characters_is_refused() =>
        Assert.Equal(["Name must contain at least one letter."], Validate("\u200B\u202E\u2066").Errors["name"]);

    [Theory]
    [InlineData("plain")]
    [InlineData("two@@example.org")]
    [InlineData("a@b@example.org")]
    [InlineData("@example.org")]
    [InlineData("ada@localhost")]
    [InlineData("ada@-example.org")]
    [InlineData("ada@example..org")]
    [InlineData("ada lovelace@example.org")]
    [InlineData("Ada <ada@example.org>")]
    [InlineData("a\u200Bda@example.org")] // zero-width space: the same mailbox to the eye, a new signer to a naive dedup
    [InlineData("ada@exa\u00ADmple.org")] // soft hyphen
    [InlineData("\uFEFFada@example.org")] // byte order mark
    [InlineData("a\U000E0041da@example.org")] // a tag character, beyond the basic plane
    public void Invalid_emails_are_rejected(string email) =>
        Assert.True(Validate(email: email).Errors.ContainsKey("email"));

    [Theory]
    [InlineData("ada+petitions@example.org")]
    [InlineData("ADA@EXAMPLE.ORG")]
    [InlineData("ada@münchen.de")]
    [InlineData("first.last@sub.example.co.uk")]
    public void Valid_emails_are_accepted(string email) => Assert.True(Validate(email: email).IsValid);

    [Theory]
    [InlineData("XX")]
    [InlineData("UK")]
    [InlineData("GBR")]
    [InlineData("")]
    public void Country_must_be_an_assigned_alpha2_code(string country) =>
        Assert.True(Validate(country: country).Errors.ContainsKey("country"));

    [Fact]
    public void Every_field_error_is_reported_at_once()
    {
        var outcome = Validate(name: "", email: "nope", country: "XX", postalCode: "<script>");

        Assert.False(outcome.IsValid);
        Assert.Equal(["country", "email", "name", "postalCode"], outcome.Errors.Keys.Order());
    }

    [Fact]
    public void Country_list_has_the_249_assigned_codes() => Assert.Equal(249, CountryCodes.All.Count);
}

namespace Petition.Signing;

/// <summary>A signature as a signer or an import submits it, before validation.</summary>
/// <param name="ContactConsent">The signer agreed to be contacted about the campaign: only then is the email kept (encrypted).</param>
public sealed record SignatureForm(string? Name, string? Email, string? Country, string? PostalCode, bool ContactConsent = false);

namespace Petition.Signing;

/// <summary>A signature as a signer or an import submits it, before validation.</summary>
public sealed record SignatureForm(string? Name, string? Email, string? Country, string? PostalCode);

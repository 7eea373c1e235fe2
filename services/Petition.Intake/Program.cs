using Petition.Intake;
using Petition.Intake.Apis;
using Petition.Intake.Http;
using Petition.ServiceDefaults;

var builder = WebApplication.CreateBuilder(args);

builder.AddServiceDefaults();
builder.AddApplicationServices();

var app = builder.Build();

app.UseServiceDefaults();
app.UseCors(); // first, so a 429 carries CORS headers a campaign page can read
app.UseSigningClients(); // the signer's address, and partner keys
app.UseSigningRateLimits();
app.UseAuthentication();
app.UseAuthorization();

app.MapDefaultEndpoints();
app.MapSignaturesApi();
app.MapPetitionsApi();
app.MapAdminApi();
app.MapSignerPages();

app.RunUntilStopped();

/// <summary>Entry point, visible to the in-process API tests.</summary>
public partial class Program;

using Petition.ServiceDefaults;

namespace Petition.Mailer;

/// <summary>The mailer's host, built in one place for Program and for tests.</summary>
public static class MailerApp
{
    /// <summary>Builds the mailer.</summary>
    public static WebApplication Create(string[] args)
    {
        var builder = WebApplication.CreateBuilder(args);
        builder.AddServiceDefaults();
        builder.AddApplicationServices();
        var app = builder.Build();
        app.UseServiceDefaults();
        app.MapDefaultEndpoints();
        return app;
    }
}

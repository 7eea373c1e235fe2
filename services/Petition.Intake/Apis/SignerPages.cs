namespace Petition.Intake.Apis;

/// <summary>
/// The pages a signer's mail links to: /confirm and /withdraw (one page, wwwroot/signer.html). Opening one does
/// nothing; its button sends the token to <see cref="SignaturesApi.ConfirmAsync"/> or the withdrawal, so a mail
/// scanner that follows every link confirms nobody.
/// </summary>
internal static class SignerPages
{
    private static readonly string[] Assets = ["signer.js", "signer.css"];

    public static IEndpointRouteBuilder MapSignerPages(this IEndpointRouteBuilder app)
    {
        var root = app.ServiceProvider.GetRequiredService<IWebHostEnvironment>().WebRootFileProvider;
        app.MapGet("/confirm", (HttpContext http) => Page(http, root, "signer.html", "text/html; charset=utf-8"));
        app.MapGet("/withdraw", (HttpContext http) => Page(http, root, "signer.html", "text/html; charset=utf-8"));
        foreach (var asset in Assets)
        {
            var type = asset.EndsWith(".js", StringComparison.Ordinal) ? "text/javascript; charset=utf-8" : "text/css; charset=utf-8";
            app.MapGet("/" + asset, (HttpContext http) => Page(http, root, asset, type));
        }

        return app;
    }

    private static IResult Page(HttpContext http, Microsoft.Extensions.FileProviders.IFileProvider root, string file, string contentType)
    {
        var headers = http.Response.Headers;
        // Its own scripts and this origin only; never framed (a click on a hidden Confirm button); no Referer carries a link out.
        headers.ContentSecurityPolicy = "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'";
        headers["Referrer-Policy"] = "no-referrer";
        headers.XContentTypeOptions = "nosniff";
        headers.CacheControl = "public, max-age=300";
        var info = root.GetFileInfo(file);
        return info.Exists ? Results.Stream(info.CreateReadStream(), contentType) : Results.NotFound();
    }
}

using System.Data.Common;
using System.Net.Sockets;
using Microsoft.AspNetCore.Diagnostics;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;

namespace Petition.ServiceDefaults;

/// <summary>
/// A database or network dependency that fails mid-request (PostgreSQL restarting, say) is a 503 with
/// Retry-After, not a 500: the request was fine and may simply be retried.
/// </summary>
internal sealed class DependencyUnavailableHandler(IProblemDetailsService problems) : IExceptionHandler
{
    public async ValueTask<bool> TryHandleAsync(HttpContext httpContext, Exception exception, CancellationToken cancellationToken)
    {
        // Only what may pass: a transient database error (not bad data), a timeout, a refused connection.
        var cause = exception as DbException ?? exception.GetBaseException();
        if (cause is not (DbException { IsTransient: true } or TimeoutException or SocketException)) return false;

        httpContext.Response.StatusCode = StatusCodes.Status503ServiceUnavailable;
        httpContext.Response.Headers.RetryAfter = "2";
        return await problems.TryWriteAsync(new ProblemDetailsContext
        {
            HttpContext = httpContext,
            Exception = exception,
            ProblemDetails = new ProblemDetails
            {
                Status = StatusCodes.Status503ServiceUnavailable,
                Title = "A dependency of this service is unavailable.",
                Detail = "Please retry shortly.",
            },
        });
    }
}

using Microsoft.AspNetCore.Http.HttpResults;

namespace Petition.Intake.Http;

/// <summary>
/// Every error of a request body, by field, gathered before the body is answered: the caller learns of them
/// all at once, never only the first. Answered as the problem's "errors" (<see cref="Problems.Validation"/>),
/// for signatures and admin bodies alike.
/// </summary>
internal sealed class FieldErrors
{
    private readonly Dictionary<string, string[]> _errors = new(StringComparer.Ordinal);

    public bool IsEmpty => _errors.Count == 0;

    /// <summary>
    /// A field keeps its first error: one of the wrong type, found while reading, is not replaced by the
    /// message its missing value would then get from validation.
    /// </summary>
    public void Add(string field, string message) => _errors.TryAdd(field, [message]);

    public void Add(IReadOnlyDictionary<string, string[]> errors)
    {
        foreach (var (field, messages) in errors) _errors.TryAdd(field, messages);
    }

    public IReadOnlyDictionary<string, string[]> ByField => _errors;

    public ProblemHttpResult ToProblem() => Problems.Validation(_errors);
}

using Microsoft.Extensions.Options;
using Petition.Intake.Acceptance;
using Petition.Intake.Access;
using Petition.Intake.Http;
using Petition.Intake.Publishing;
using Petition.Storage;

namespace Petition.Intake.Apis;

/// <summary>
/// The withdrawal token is the signer's alone: sent back to withdraw (DELETE), never stored. Confirmation is
/// "email" when the signature counts once its signer follows the mailed link (the page says "check your inbox"),
/// "none" when it counts as it is: the petition's policy, the same for a new signer and a repeat.
/// </summary>
internal sealed record SignatureAccepted(Guid SignatureId, string Status, string StatusUrl, string WithdrawalToken, string Confirmation);

internal sealed record RejectedRow(int Row, int? Line, IReadOnlyDictionary<string, string[]> Errors);

internal sealed record ImportReport(int Accepted, IReadOnlyList<RejectedRow> Rejected);

internal sealed record SignatureStatusView(Guid SignatureId, SignatureStatus Status);

// What each signature endpoint works with, bound by [AsParameters]. Structs, so the signing path allocates none.

internal readonly record struct SigningServices(SignatureAcceptance Acceptance, PublishAdmission Admission, SignatureCoalescer Coalescer);

internal readonly record struct ImportServices(SignatureAcceptance Acceptance, PublishAdmission Admission, SignaturePublisher Publisher, IOptions<IntakeOptions> Options);

internal readonly record struct StatusServices(StatusLookups Lookups, SignatureStatusReader Reader);

internal readonly record struct WithdrawalServices(SigningKeys Keys, SignatureAdministration Administration, ChangeAnnouncer Announcer);

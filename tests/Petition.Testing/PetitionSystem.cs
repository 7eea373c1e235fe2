using Petition.ServiceDefaults;
using System.Net.Http.Json;
using System.Text.Json;
using Dapper;
using Npgsql;
using Xunit;

namespace Petition.Testing;

/// <summary>What PostgreSQL holds for one petition.</summary>
/// <summary>
/// A petition as stored: Rows counted (valid, not awaiting confirmation) and Awaiting (valid, awaiting), and the totals
/// that must equal them (pending also holds the repeats awaiting confirmation); DistinctSigners over both, as both take their signer.
/// </summary>
public sealed record StoredCounts(long Rows, long Total, long CountrySum, long CountryMismatches, long Duplicates, long DistinctSigners, long Invalidated = 0, long Awaiting = 0, long AwaitingRepeats = 0, long Pending = 0);

/// <summary>
/// The signing pipeline on the real servers, for one test class: its own signature queue (so test classes
/// running in parallel never consume each other's messages), an in-process intake, and worker processes
/// started on demand. Each test uses its own petitions.
/// </summary>
public class PetitionSystem : IAsyncLifetime, IAsyncDisposable
{
    public const string Database = "petition_test";

    private readonly List<ServiceProcess> _processes = [];
    private readonly Dictionary<string, string> _settings = [];

    /// <summary>A system whose services also get <paramref name="settings"/> (another broker, say); xunit fixtures use the plain constructor.</summary>
    public static PetitionSystem With(IReadOnlyDictionary<string, string> settings) => new(settings);

    public PetitionSystem()
    {
    }

    /// <summary>For fixtures of a system with settings of its own.</summary>
    protected PetitionSystem(IReadOnlyDictionary<string, string> settings)
    {
        ArgumentNullException.ThrowIfNull(settings);
        foreach (var (key, value) in settings) _settings[key] = value;
    }

    public string Queue { get; } = $"store-signatures-test-{Guid.NewGuid():N}";

    /// <summary>This system's queues of signer mails and of confirmations, its own as <see cref="Queue"/> is.</summary>
    public string MailQueue => Queue.Replace("store-signatures", "send-signer-mail", StringComparison.Ordinal);

    public string ConfirmationQueue => Queue.Replace("store-signatures", "confirm-signatures", StringComparison.Ordinal);

    public IntakeFactory Intake { get; private set; } = null!;

    public HttpClient Client { get; private set; } = null!;

    public HttpClient Admin { get; private set; } = null!;

    /// <summary>Settings shared by the intake and the workers of this system (the constructor's over the defaults).</summary>
    public Dictionary<string, string> Settings
    {
        get
        {
            var all = new Dictionary<string, string>
            {
                ["ConnectionStrings:Postgres"] = TestServers.PostgresDatabase(Database),
                ["Messaging:SignatureQueue"] = Queue,
                ["Messaging:MailQueue"] = MailQueue,
                ["Messaging:ConfirmationQueue"] = ConfirmationQueue,
                // The tests sign as thousands of people from one address; RateLimitTests turn the limits on.
                ["RateLimits:Enabled"] = "false",
                // In process, every endpoint on the one listener; a process started to listen gets a management port.
                [ManagementListener.UrlSetting] = "",
            };
            foreach (var (key, value) in _settings) all[key] = value;
            return all;
        }
    }

    public virtual async Task InitializeAsync()
    {
        await TestServers.EnsureDatabaseAsync(Database);
        Intake = new IntakeFactory(Settings);
        Client = Intake.CreateClient();
        Admin = Intake.CreateAdminClient();
        await WaitUntilAsync(async () => (await Client.GetAsync("/health/ready")).IsSuccessStatusCode, TimeSpan.FromSeconds(60), "the intake to become ready");
    }

    async ValueTask IAsyncDisposable.DisposeAsync()
    {
        await DisposeAsync();
        GC.SuppressFinalize(this);
    }

    public virtual async Task DisposeAsync()
    {
        foreach (var process in _processes) await process.DisposeAsync();
        Client?.Dispose();
        Admin?.Dispose();
        if (Intake is not null) await Intake.DisposeAsync();
    }

    /// <summary>Starts a worker on this system's queue; extra settings override (e.g. Worker:CrashAt).</summary>
    public ServiceProcess StartWorker(IReadOnlyDictionary<string, string>? overrides = null, bool listen = false) => Start("Petition.Worker", overrides, listen);

    /// <summary>Starts an intake as a process of its own on its own port, for clients that need a real socket (load tests).</summary>
    public ServiceProcess StartIntake(IReadOnlyDictionary<string, string>? overrides = null) => Start("Petition.Intake", overrides, listen: true);

    /// <summary>Starts a mailer on this system's mail queue, sending through the tests' Postfix; its links point at <c>Mail:LinkBase</c>.</summary>
    public ServiceProcess StartMailer(IReadOnlyDictionary<string, string>? overrides = null) => Start("Petition.Mailer", overrides, listen: true);

    /// <summary>Starts a counter on its own port; wait for it with <see cref="ServiceProcess.WaitUntilReadyAsync"/>.</summary>
    public ServiceProcess StartCounter(IReadOnlyDictionary<string, string>? overrides = null) => Start("Petition.Counter", overrides, listen: true);

    private ServiceProcess Start(string project, IReadOnlyDictionary<string, string>? overrides, bool listen)
    {
        var settings = Settings;
        foreach (var (key, value) in overrides ?? new Dictionary<string, string>()) settings[key] = value;
        var process = ServiceProcess.Start(project, settings, listen);
        _processes.Add(process);
        return process;
    }

    /// <summary>
    /// A petition of its own for a test. Its signers count at once ("none") unless <paramref name="confirmation"/> is
    /// "email": most tests are about the pipeline, and the confirmation tests ask for it.
    /// </summary>
    public async Task<Guid> CreatePetitionAsync(DateTimeOffset? closesAt = null, string confirmation = "none", string language = "en", string title = "Test petition")
    {
        var response = await Admin.PostAsJsonAsync("/api/petitions", new { title, description = "For a test.", target = 1000, closesAt, confirmation, language });
        response.EnsureSuccessStatusCode();
        using var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        var petition = body.RootElement.GetProperty("id").GetGuid();
        if (CounterUrl is { } counter)
        {
            // A counter learns a new petition through LISTEN/NOTIFY, a moment after it is created, and answers 404 until
            // then (a widget opened in that moment stops): tests start once it knows it, as a campaign page would.
            using var client = new HttpClient { BaseAddress = counter };
            await WaitUntilAsync(async () => (await client.GetAsync($"/api/petitions/{petition}/count")).StatusCode != System.Net.HttpStatusCode.NotFound,
                TimeSpan.FromSeconds(10), "the counter to learn the new petition");
        }

        return petition;
    }

    /// <summary>The counter of this system, if it runs one: petitions are created only once it knows them.</summary>
    protected virtual Uri? CounterUrl => null;

    public Task<HttpResponseMessage> SignAsync(Guid petitionId, Signer signer) =>
        Client.PostAsJsonAsync($"/api/petitions/{petitionId}/signatures", signer);

    /// <summary>Counted and awaiting rows, totals, duplicates and struck-out rows of one petition, straight from PostgreSQL.</summary>
    public static async Task<StoredCounts> CountsAsync(Guid petitionId)
    {
        await using var connection = TestServers.Connect(Database);
        return await connection.QuerySingleAsync<StoredCounts>("""
            SELECT
              (SELECT count(*) FROM signatures WHERE petition_id = @petitionId AND invalidated_by IS NULL AND NOT awaiting_confirmation) AS Rows,
              (SELECT coalesce(max(total), 0) FROM petition_totals WHERE petition_id = @petitionId) AS Total,
              (SELECT coalesce(sum(total), 0)::bigint FROM petition_country_totals WHERE petition_id = @petitionId) AS CountrySum,
              (SELECT count(*)
                 FROM (SELECT country, total FROM petition_country_totals WHERE petition_id = @petitionId) t
                 FULL JOIN (SELECT country, count(*) AS n FROM signatures
                            WHERE petition_id = @petitionId AND invalidated_by IS NULL AND NOT awaiting_confirmation GROUP BY country) s USING (country)
                WHERE coalesce(t.total, 0) <> coalesce(s.n, 0)) AS CountryMismatches,
              (SELECT count(*) FROM signature_duplicates WHERE petition_id = @petitionId) AS Duplicates,
              (SELECT count(DISTINCT dedup_key) FROM signatures WHERE petition_id = @petitionId AND invalidated_by IS NULL) AS DistinctSigners,
              (SELECT count(*) FROM signatures WHERE petition_id = @petitionId AND invalidated_by IS NOT NULL) AS Invalidated,
              (SELECT count(*) FROM signatures WHERE petition_id = @petitionId AND invalidated_by IS NULL AND awaiting_confirmation) AS Awaiting,
              (SELECT count(*) FROM signature_duplicates WHERE petition_id = @petitionId AND awaiting_confirmation) AS AwaitingRepeats,
              (SELECT coalesce(max(pending), 0) FROM petition_totals WHERE petition_id = @petitionId) AS Pending
            """, new { petitionId });
    }

    /// <summary>
    /// Waits until the petition holds exactly <paramref name="expected"/> signatures, then checks that it stays
    /// so and that the totals (overall and per country) equal COUNT(*) of the stored rows.
    /// </summary>
    public static async Task AssertStoredExactlyAsync(Guid petitionId, long expected, TimeSpan? timeout = null)
    {
        StoredCounts counts = null!;
        await WaitUntilAsync(async () => (counts = await CountsAsync(petitionId)).Rows >= expected && counts.Total == counts.Rows,
            timeout ?? TimeSpan.FromSeconds(60), $"{expected} signatures to be stored", () => counts.ToString());
        await Task.Delay(500); // anything still in flight would show now
        counts = await CountsAsync(petitionId);
        Assert.Equal(expected, counts.Rows);
        Assert.Equal(counts.Rows, counts.Total);
        Assert.Equal(counts.Rows, counts.CountrySum);
        Assert.Equal(0, counts.CountryMismatches);
        Assert.Equal(counts.Awaiting + counts.AwaitingRepeats, counts.Pending);
        Assert.Equal(counts.Rows + counts.Awaiting, counts.DistinctSigners);
    }

    public static async Task WaitUntilAsync(Func<Task<bool>> condition, TimeSpan timeout, string what, Func<string>? state = null)
    {
        ArgumentNullException.ThrowIfNull(condition);
        var deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            try
            {
                if (await condition()) return;
            }
            catch (Exception e) when (e is HttpRequestException or NpgsqlException && DateTime.UtcNow < deadline)
            {
            }

            if (DateTime.UtcNow >= deadline) throw new TimeoutException($"Timed out after {timeout} waiting for {what}. {state?.Invoke()}");
            await Task.Delay(100);
        }
    }
}

/// <summary>A signature body as a campaign site posts it.</summary>
public sealed record Signer(string Name, string Email, string Country, string? PostalCode = null)
{
    private static readonly string[] Countries = ["GB", "KR", "BR", "DE", "NG", "IN", "US", "FR", "UA", "ZA"];

    /// <summary>A new signer with a unique email.</summary>
    public static Signer Unique(int i = 0) =>
        new($"Signer {i}", $"signer-{Guid.NewGuid():N}@example.org", Countries[Math.Abs(i) % Countries.Length]);

    /// <summary>The same person signing again, typing the email differently.</summary>
    public Signer Again() => this with { Email = "  " + Email.ToUpperInvariant() + " " };
}

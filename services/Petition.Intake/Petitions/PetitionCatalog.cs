using System.Collections.Concurrent;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Petition.Storage;

namespace Petition.Intake.Petitions;

/// <summary>
/// The petitions, held in memory so the signing path never waits on PostgreSQL. It learns of petitions
/// created or closed by any intake through LISTEN/NOTIFY, and reloads everything on every (re)connect and
/// every <see cref="FullReloadInterval"/>, so a notification missed while disconnected is caught up.
/// </summary>
internal sealed class PetitionCatalog(
    PetitionChanges changes, PetitionRepository repository, ILogger<PetitionCatalog> logger) : BackgroundService
{
    private static readonly TimeSpan FullReloadInterval = TimeSpan.FromSeconds(30);
    private readonly ConcurrentDictionary<Guid, PetitionRecord> _petitions = new();
    private volatile bool _loaded;

    /// <summary>True once the petitions were loaded at least once.</summary>
    public bool IsLoaded => _loaded;

    public PetitionRecord? Find(Guid petitionId) => _petitions.GetValueOrDefault(petitionId);

    public IReadOnlyList<PetitionRecord> All() => [.. _petitions.Values.OrderByDescending(p => p.CreatedAt)];

    /// <summary>Records a change made by this intake at once, ahead of its own notification.</summary>
    public void Put(PetitionRecord petition) => _petitions[petition.PetitionId] = petition;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await ListenAsync(stoppingToken);
            }
            catch (Exception e) when (PostgresErrors.IsTransient(e))
            {
                logger.CatalogNotRead(e.Message);
                await Task.Delay(TimeSpan.FromSeconds(2), stoppingToken);
            }
        }
    }

    private Task ListenAsync(CancellationToken stoppingToken) =>
        changes.ListenAsync(ReloadAllAsync, async (id, cancellationToken) =>
        {
            if (await repository.FindAsync(id, cancellationToken) is { } petition) Put(petition);
        }, FullReloadInterval, ReloadAllAsync, stoppingToken);

    private async Task ReloadAllAsync(CancellationToken cancellationToken) => Load(await repository.ListAsync(cancellationToken));

    /// <summary>Puts petitions in as read from PostgreSQL (and by tests, without it); from then on the catalog is loaded.</summary>
    internal void Load(IEnumerable<PetitionRecord> petitions)
    {
        foreach (var petition in petitions) Put(petition);
        if (!_loaded) logger.CatalogLoaded(_petitions.Count);
        _loaded = true;
    }
}

/// <summary>Not ready until the catalog has loaded: before that every petition would look unknown.</summary>
internal sealed class PetitionCatalogHealthCheck(PetitionCatalog catalog) : IHealthCheck
{
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default) =>
        Task.FromResult(catalog.IsLoaded
            ? HealthCheckResult.Healthy("Petitions loaded.")
            : HealthCheckResult.Unhealthy("Petitions not loaded yet from PostgreSQL."));
}

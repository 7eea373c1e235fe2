using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace Petition.Storage.Tests;

/// <summary>
/// The storage library as a service registers it (AddPetitionStorage), on a database of its own, migrated: no
/// host, no broker. Each test uses its own petitions.
/// </summary>
public sealed class StorageDatabase : IAsyncLifetime
{
    public const string Name = "petition_storage";

    private ServiceProvider _services = null!;

    public SignatureBatchWriter Writer => _services.GetRequiredService<SignatureBatchWriter>();

    public PetitionRepository Petitions => _services.GetRequiredService<PetitionRepository>();

    public SignatureConfirmations Confirmations => _services.GetRequiredService<SignatureConfirmations>();

    public SignatureAdministration Administration => _services.GetRequiredService<SignatureAdministration>();

    public async Task InitializeAsync()
    {
        await TestServers.EnsureDatabaseAsync(Name);
        var configuration = new ConfigurationBuilder()
            .AddInMemoryCollection(new Dictionary<string, string?> { ["ConnectionStrings:Postgres"] = TestServers.PostgresDatabase(Name) })
            .Build();
        _services = new ServiceCollection().AddLogging().AddPetitionStorage(configuration).BuildServiceProvider();
        await _services.GetRequiredService<SchemaMigrator>().MigrateAsync(CancellationToken.None);
    }

    public async Task DisposeAsync() => await _services.DisposeAsync();

    public async Task<Guid> NewPetitionAsync() => (await Petitions.CreateAsync("Test petition", "For a test.", 1_000, null, PetitionConfirmation.None, PetitionLanguages.Default, CancellationToken.None)).PetitionId;
}

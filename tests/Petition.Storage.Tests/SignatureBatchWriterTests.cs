using System.Security.Cryptography;
using Dapper;
using Petition.Contracts;

namespace Petition.Storage.Tests;

/// <summary>
/// The batch write through its public surface (begin, copy, commit, and the outcome's counts and totals) against
/// real PostgreSQL: what the worker relies on for "stored once, counted once", without a worker or a broker.
/// </summary>
public sealed class SignatureBatchWriterTests(StorageDatabase storage) : IClassFixture<StorageDatabase>
{
    private static readonly DateTimeOffset Noon = new(2026, 11, 1, 12, 0, 0, TimeSpan.Zero);

    [Fact]
    public async Task New_signers_are_stored_and_counted_overall_and_per_country_in_one_commit()
    {
        var petition = await storage.NewPetitionAsync();
        AcceptedSignature[] batch = [Signer(petition, "GB", 0), Signer(petition, "GB", 1), Signer(petition, "GB", 2), Signer(petition, "KR", 3), Signer(petition, "KR", 4)];

        var outcome = await WriteAsync(batch);

        Assert.Equal(5, outcome.Stored);
        Assert.Equal(0, outcome.Duplicates);
        Assert.True(outcome.StoredSignatureIds.SetEquals(batch.Select(s => s.SignatureId)));
        var totals = Assert.Single(outcome.Totals);
        Assert.Equal(petition, totals.PetitionId);
        Assert.Equal(5, totals.Total);
        Assert.Equal(1, totals.Version);
        Assert.Equal(Noon.AddSeconds(4), totals.LastSignedAt);
        Assert.Equal([("GB", 3L), ("KR", 2L)], ByCountry(totals.ByCountry));
        await AssertStoredAsync(petition, rows: 5, duplicates: 0);
    }

    [Fact]
    public async Task A_signer_repeated_within_a_batch_or_from_an_earlier_one_is_recorded_as_a_duplicate_and_not_counted()
    {
        var petition = await storage.NewPetitionAsync();
        var (ada, grace) = (Signer(petition, "GB", 0), Signer(petition, "US", 1));
        await WriteAsync([ada, grace]);
        var alan = Signer(petition, "GB", 3);
        var alanAgainEarlier = Again(alan, Noon.AddSeconds(2)); // the earlier of the two is the one kept

        var outcome = await WriteAsync([Again(ada, Noon.AddSeconds(5)), alan, alanAgainEarlier]);

        Assert.Equal(1, outcome.Stored);
        Assert.Equal(2, outcome.Duplicates);
        Assert.Equal(alanAgainEarlier.SignatureId, Assert.Single(outcome.StoredSignatureIds));
        var totals = Assert.Single(outcome.Totals);
        Assert.Equal(3, totals.Total);
        Assert.Equal(2, totals.Version);
        Assert.Equal([("GB", 2L), ("US", 1L)], ByCountry(totals.ByCountry));
        await AssertStoredAsync(petition, rows: 3, duplicates: 2);
    }

    [Fact]
    public async Task A_redelivered_batch_stores_and_counts_nothing_again_yet_reports_its_signatures_stored_and_the_totals()
    {
        var petition = await storage.NewPetitionAsync();
        AcceptedSignature[] batch = [Signer(petition, "DE", 0), Signer(petition, "DE", 1), Signer(petition, "FR", 2)];
        await WriteAsync(batch);

        var again = await WriteAsync(batch); // as after a crash between the commit and the ack

        Assert.Equal(0, again.Stored);
        Assert.Equal(0, again.Duplicates); // found by their ids: not mistaken for repeats of themselves
        Assert.True(again.StoredSignatureIds.SetEquals(batch.Select(s => s.SignatureId)));
        var totals = Assert.Single(again.Totals); // announced again, in case the first announcement was lost
        Assert.Equal((3L, 1L), (totals.Total, totals.Version));
        Assert.Equal([("DE", 2L), ("FR", 1L)], ByCountry(totals.ByCountry));
        await AssertStoredAsync(petition, rows: 3, duplicates: 0);
    }

    [Fact]
    public async Task The_dedup_cache_saying_taken_is_believed_only_when_postgres_holds_the_signer()
    {
        var petition = await storage.NewPetitionAsync();
        var stored = Signer(petition, "NG", 0);
        await WriteAsync([stored]);
        var repeat = Again(stored, Noon.AddSeconds(1));
        var unknown = Signer(petition, "NG", 2); // the cache is ahead of PostgreSQL (restored from a backup, say)

        var outcome = await WriteAsync([repeat, unknown], knownDuplicate: [true, true]);

        Assert.Equal(1, outcome.Stored);
        Assert.Equal(1, outcome.Duplicates);
        Assert.Equal(unknown.SignatureId, Assert.Single(outcome.StoredSignatureIds));
        Assert.Equal(2, Assert.Single(outcome.Totals).Total);
    }

    [Fact]
    public async Task A_withdrawn_signature_redelivered_is_neither_stored_again_nor_recorded_as_a_duplicate()
    {
        var petition = await storage.NewPetitionAsync();
        var withdrawn = Signer(petition, "UA", 0);
        await using (var connection = TestServers.Connect(StorageDatabase.Name))
        {
            await connection.ExecuteAsync("INSERT INTO signature_removals (signature_id) VALUES (@id)", new { id = withdrawn.SignatureId });
        }

        var outcome = await WriteAsync([withdrawn]);

        Assert.Equal((0, 0), (outcome.Stored, outcome.Duplicates));
        Assert.Empty(outcome.StoredSignatureIds);
        Assert.Equal(0, Assert.Single(outcome.Totals).Total);
        await AssertStoredAsync(petition, rows: 0, duplicates: 0);
    }

    [Fact]
    public async Task Nothing_of_a_batch_is_visible_before_its_commit_nor_after_it_is_abandoned()
    {
        var petition = await storage.NewPetitionAsync();
        AcceptedSignature[] batch = [Signer(petition, "ZA", 0), Signer(petition, "ZA", 1)];

        await using (var write = await storage.Writer.BeginAsync(CancellationToken.None))
        {
            await write.CopyAsync(batch, [false, false], CancellationToken.None);
            await AssertStoredAsync(petition, rows: 0, duplicates: 0);
        }

        await AssertStoredAsync(petition, rows: 0, duplicates: 0);
        Assert.Equal(2, (await WriteAsync(batch)).Stored); // the same batch, redelivered, goes in whole
    }

    [Fact]
    public async Task Concurrent_batches_over_the_same_petitions_in_any_order_end_with_totals_equal_to_the_rows()
    {
        Guid[] petitions = [await storage.NewPetitionAsync(), await storage.NewPetitionAsync(), await storage.NewPetitionAsync()];
        string[] countries = ["GB", "KR", "BR", "IN"];
        var batches = Enumerable.Range(0, 8).Select(b => Enumerable.Range(0, 60)
                .Select(i => Signer(petitions[(b + i) % 3], countries[i % 4], i))
                .Reverse().Skip(b % 2).ToArray()) // another order each time
            .ToList();

        var outcomes = await Task.WhenAll(batches.Select(batch => Task.Run(() => WriteAsync(batch))));

        Assert.Equal(batches.Sum(b => b.Length), outcomes.Sum(o => o.Stored));
        foreach (var petition in petitions)
        {
            var rows = batches.SelectMany(b => b).Count(s => s.PetitionId == petition);
            var last = outcomes.SelectMany(o => o.Totals).Where(t => t.PetitionId == petition).MaxBy(t => t.Version)!;
            Assert.Equal(rows, last.Total);
            Assert.Equal(8, last.Version); // every batch moved every petition's totals once
            Assert.Equal(rows, last.ByCountry.Values.Sum());
            await AssertStoredAsync(petition, rows, duplicates: 0);
        }
    }

    [Fact]
    public async Task A_signature_awaiting_confirmation_takes_its_signer_but_counts_only_once_confirmed_and_only_once()
    {
        var petition = await storage.NewPetitionAsync();
        var (counted, awaiting, alsoAwaiting) = (Signer(petition, "GB", 0), Awaiting(Signer(petition, "KR", 1)), Awaiting(Signer(petition, "KR", 2)));

        var written = Assert.Single((await WriteAsync([counted, awaiting, alsoAwaiting])).Totals);
        var repeat = await WriteAsync([Again(awaiting, Noon.AddSeconds(5))]); // the signer is taken while awaiting

        Assert.Equal((1L, 2L), (written.Total, written.Pending));
        Assert.Equal([("GB", 1L)], ByCountry(written.ByCountry)); // countries count counted signatures only
        Assert.Equal(Noon, written.LastSignedAt);
        Assert.Equal((0, 1), (repeat.Stored, repeat.Duplicates));
        // The repeat is in pending as a new signer would be: pending does not tell whether this person had signed.
        Assert.Equal((1L, 3L), (repeat.Totals[0].Total, repeat.Totals[0].Pending));
        await AssertStoredAsync(petition, rows: 1, duplicates: 1, awaiting: 2, awaitingRepeats: 1);

        var confirmed = await storage.Confirmations.ConfirmAsync([awaiting.SignatureId, Guid.NewGuid()], CancellationToken.None);
        var again = await storage.Confirmations.ConfirmAsync([awaiting.SignatureId], CancellationToken.None); // the link used twice

        Assert.Equal(1, confirmed.Confirmed);
        var totals = Assert.Single(confirmed.Totals);
        Assert.Equal((2L, 2L), (totals.Total, totals.Pending));
        Assert.Equal([("GB", 1L), ("KR", 1L)], ByCountry(totals.ByCountry));
        Assert.Equal(Noon.AddSeconds(1), totals.LastSignedAt);
        Assert.Equal(written.Version + 2, totals.Version); // the repeat moved it once, the confirmation once
        Assert.Equal((0, 0), (again.Confirmed, again.Totals.Count));
        await AssertStoredAsync(petition, rows: 2, duplicates: 1, awaiting: 1, awaitingRepeats: 1);
    }

    [Fact]
    public async Task A_repeat_awaiting_confirmation_withdrawn_leaves_pending_and_a_redelivery_records_it_nowhere_again()
    {
        var petition = await storage.NewPetitionAsync();
        var first = Awaiting(Signer(petition, "GB", 0));
        await WriteAsync([first]);
        var repeatBatch = new[] { Again(first, Noon.AddSeconds(1)) };
        await WriteAsync(repeatBatch);
        var redelivered = await WriteAsync(repeatBatch); // before the withdrawal: nothing moves twice

        var (result, outcome) = await storage.Administration.WithdrawAsync(repeatBatch[0].SignatureId, CancellationToken.None);
        var afterwards = await WriteAsync(repeatBatch); // a redelivery after it

        Assert.Equal((0L, 2L), (redelivered.Totals[0].Total, redelivered.Totals[0].Pending));
        Assert.Equal(WithdrawalResult.RepeatRemoved, result);
        Assert.Equal((0L, 1L), (outcome.Totals[0].Total, outcome.Totals[0].Pending)); // announced, as pending moved
        Assert.Equal((0, 0), (afterwards.Stored, afterwards.Duplicates));
        await AssertStoredAsync(petition, rows: 0, duplicates: 0, awaiting: 1);
    }

    [Fact]
    public async Task A_signature_awaiting_confirmation_leaves_pending_when_withdrawn_or_struck_out_and_cannot_be_confirmed_after()
    {
        var petition = await storage.NewPetitionAsync();
        var (withdrawn, struck, kept) = (Awaiting(Signer(petition, "GB", 0)), Awaiting(Signer(petition, "GB", 1)), Awaiting(Signer(petition, "GB", 2)));
        await WriteAsync([withdrawn, struck, kept]);
        await SetAddressAsync(struck.SignatureId, "198.51.100.7");

        await storage.Administration.WithdrawAsync(withdrawn.SignatureId, CancellationToken.None);
        var strikeOut = await storage.Administration.InvalidateAsync(
            new InvalidationCriteria(petition, System.Net.IPNetwork.Parse("198.51.100.0/24"), null, null, null), "test", CancellationToken.None);
        var late = await storage.Confirmations.ConfirmAsync([withdrawn.SignatureId, struck.SignatureId], CancellationToken.None);

        Assert.Equal(1, strikeOut.Affected);
        var totals = Assert.Single(strikeOut.Totals);
        Assert.Equal((0L, 1L), (totals.Total, totals.Pending));
        Assert.Equal(0, late.Confirmed);
        await AssertStoredAsync(petition, rows: 0, duplicates: 0, awaiting: 1);
    }

    [Fact]
    public async Task Signatures_and_repeats_left_unconfirmed_past_their_lifetime_are_purged_out_of_pending_and_free_their_signer()
    {
        var petition = await storage.NewPetitionAsync();
        var (unconfirmed, confirmed, counted) = (Awaiting(Signer(petition, "GB", 0)), Awaiting(Signer(petition, "KR", 1)), Signer(petition, "FR", 2));
        await WriteAsync([unconfirmed, confirmed, counted]);
        await storage.Confirmations.ConfirmAsync([confirmed.SignatureId], CancellationToken.None);
        var repeat = Awaiting(Again(counted, Noon.AddSeconds(3)));
        await WriteAsync([repeat]);
        await AssertStoredAsync(petition, rows: 2, duplicates: 1, awaiting: 1, awaitingRepeats: 1);

        // Everything awaiting before this moment is past its lifetime: a repeat's age is when it was recorded.
        var expiry = await storage.Administration.ExpireUnconfirmedAsync(DateTimeOffset.UtcNow.AddSeconds(1), 10_000, CancellationToken.None);

        Assert.True(expiry.Affected >= 2); // other tests' leftovers too: the purge is not per petition
        Assert.Contains(expiry.Totals, t => t.PetitionId == petition && t.Total == 2 && t.Pending == 0);
        Assert.Contains(expiry.Removed, r => r.PetitionId == petition && r.DedupKey.SequenceEqual(unconfirmed.DedupKey));
        await AssertStoredAsync(petition, rows: 2, duplicates: 0);
        // The signer is free: signing again stores a signature that awaits; a redelivery of the purged one stores nothing.
        var again = await WriteAsync([Awaiting(Again(unconfirmed, Noon.AddSeconds(4)))]);
        var redelivered = await WriteAsync([unconfirmed]);
        Assert.Equal((1, 0, 0), (again.Stored, redelivered.Stored, redelivered.Duplicates));
        await AssertStoredAsync(petition, rows: 2, duplicates: 0, awaiting: 1);
    }

    [Fact]
    public async Task A_recorded_repeat_redelivered_after_its_first_signer_withdrew_stays_a_repeat_and_is_not_counted()
    {
        var petition = await storage.NewPetitionAsync();
        var first = Signer(petition, "GB", 0);
        await WriteAsync([first]);
        var repeatBatch = new[] { Again(first, Noon.AddSeconds(1)) };
        await WriteAsync(repeatBatch);
        await storage.Administration.WithdrawAsync(first.SignatureId, CancellationToken.None); // the signer is free again

        var redelivered = await WriteAsync(repeatBatch);

        Assert.Equal((0, 0), (redelivered.Stored, redelivered.Duplicates));
        Assert.Equal(0, redelivered.Totals[0].Total);
        await AssertStoredAsync(petition, rows: 0, duplicates: 1);
    }

    [Fact]
    public async Task A_redelivery_that_waits_on_its_first_attempt_committing_records_nothing_as_a_repeat()
    {
        var petition = await storage.NewPetitionAsync();
        AcceptedSignature[] batch = [Signer(petition, "GB", 0), Signer(petition, "GB", 1)];
        // The first attempt, its rows and totals written but not yet committed (a worker whose channel dropped
        // while its transaction ran, so the broker redelivered the batch to another).
        await using var first = TestServers.Connect(StorageDatabase.Name);
        await first.OpenAsync();
        await using var firstAttempt = await first.BeginTransactionAsync();
        foreach (var s in batch)
        {
            await first.ExecuteAsync("""
                INSERT INTO signatures (signature_id, petition_id, dedup_key, name, country, source, submitted_at)
                VALUES (@SignatureId, @PetitionId, @DedupKey, @Name, @Country, 'online', @SubmittedAt)
                """, new { s.SignatureId, s.PetitionId, s.DedupKey, s.Name, s.Country, s.SubmittedAt }, firstAttempt);
        }

        await first.ExecuteAsync("UPDATE petition_totals SET total = total + 2, version = version + 1 WHERE petition_id = @petition", new { petition }, firstAttempt);
        await first.ExecuteAsync("INSERT INTO petition_country_totals VALUES (@petition, 'GB', 2)", new { petition }, firstAttempt);

        var redelivery = WriteAsync(batch); // waits on the first attempt's rows
        await Task.Delay(500);
        Assert.False(redelivery.IsCompleted);
        await firstAttempt.CommitAsync();
        var second = await redelivery;

        Assert.Equal((0, 0), (second.Stored, second.Duplicates)); // found by their ids, never taken for repeats
        await AssertStoredAsync(petition, rows: 2, duplicates: 0);
    }

    private async Task<BatchOutcome> WriteAsync(IReadOnlyList<AcceptedSignature> batch, bool[]? knownDuplicate = null)
    {
        await using var write = await storage.Writer.BeginAsync(CancellationToken.None);
        await write.CopyAsync(batch, knownDuplicate ?? new bool[batch.Count], CancellationToken.None);
        return await write.CommitAsync(CancellationToken.None);
    }

    private static IEnumerable<(string Country, long Total)> ByCountry(IReadOnlyDictionary<string, long> byCountry) =>
        byCountry.OrderBy(c => c.Key, StringComparer.Ordinal).Select(c => (c.Key, c.Value));

    /// <summary>
    /// Counted rows, duplicates, rows awaiting confirmation and the totals as PostgreSQL holds them: total and the
    /// countries must equal COUNT(*) of the counted rows (valid, confirmed), pending that of the valid awaiting ones
    /// and of the repeats awaiting.
    /// </summary>
    private static async Task AssertStoredAsync(Guid petition, long rows, long duplicates, long awaiting = 0, long awaitingRepeats = 0)
    {
        await using var connection = TestServers.Connect(StorageDatabase.Name);
        var stored = await connection.QuerySingleAsync<(long Rows, long Duplicates, long Awaiting, long AwaitingRepeats, long Total, long CountrySum, long Pending)>("""
            SELECT (SELECT count(*) FROM signatures WHERE petition_id = @petition AND invalidated_by IS NULL AND NOT awaiting_confirmation),
                   (SELECT count(*) FROM signature_duplicates WHERE petition_id = @petition),
                   (SELECT count(*) FROM signatures WHERE petition_id = @petition AND invalidated_by IS NULL AND awaiting_confirmation),
                   (SELECT count(*) FROM signature_duplicates WHERE petition_id = @petition AND awaiting_confirmation),
                   (SELECT total FROM petition_totals WHERE petition_id = @petition),
                   (SELECT coalesce(sum(total), 0)::bigint FROM petition_country_totals WHERE petition_id = @petition),
                   (SELECT pending FROM petition_totals WHERE petition_id = @petition)
            """, new { petition });
        Assert.Equal((rows, duplicates, awaiting, awaitingRepeats, rows, rows, awaiting + awaitingRepeats), stored);
    }

    private static async Task SetAddressAsync(Guid signatureId, string address)
    {
        await using var connection = TestServers.Connect(StorageDatabase.Name);
        await connection.ExecuteAsync("UPDATE signatures SET client_address = @address::inet WHERE signature_id = @signatureId", new { address, signatureId });
    }

    private static AcceptedSignature Awaiting(AcceptedSignature signature) => signature with { AwaitingConfirmation = true };

    private static AcceptedSignature Signer(Guid petition, string country, int second) => new()
    {
        SignatureId = Guid.NewGuid(),
        PetitionId = petition,
        DedupKey = RandomNumberGenerator.GetBytes(32),
        Name = $"Signer {second}",
        Country = country,
        Source = SignatureSource.Online,
        SubmittedAt = Noon.AddSeconds(second),
    };

    /// <summary>The same person signing again: another signature, the same dedup key.</summary>
    private static AcceptedSignature Again(AcceptedSignature signature, DateTimeOffset at) =>
        signature with { SignatureId = Guid.NewGuid(), SubmittedAt = at };
}

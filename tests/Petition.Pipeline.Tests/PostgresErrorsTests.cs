using System.Net.Sockets;
using Npgsql;
using Petition.Storage;

namespace Petition.Pipeline.Tests;

/// <summary>The one answer to "is this PostgreSQL failure transient?", which the worker's retry, the background loops and the health checks share.</summary>
public sealed class PostgresErrorsTests
{
    [Theory]
    [InlineData("57P01")] // admin_shutdown: PostgreSQL stopping
    [InlineData("57P03")] // cannot_connect_now: starting up
    [InlineData("08006")] // connection_failure
    [InlineData("53300")] // too_many_connections
    [InlineData("40P01")] // deadlock_detected
    [InlineData("40001")] // serialization_failure
    [InlineData("25006")] // read_only_sql_transaction: a failover in progress
    [InlineData("57014")] // query_canceled by an operator or a statement timeout
    [InlineData("28P01")] // invalid_password: credentials rotated, fixed by an operator
    [InlineData("3D000")] // invalid_catalog_name: the database not there yet
    [InlineData("42P01")] // undefined_table: a schema not migrated yet, during a deployment
    public void An_outage_of_postgres_or_a_fault_an_operator_fixes_is_transient(string sqlState) =>
        Assert.True(PostgresErrors.IsTransient(Postgres(sqlState)));

    [Fact]
    public void A_lost_or_refused_connection_or_a_timeout_is_transient()
    {
        Assert.True(PostgresErrors.IsTransient(new NpgsqlException("The connection pool has been exhausted", new TimeoutException())));
        Assert.True(PostgresErrors.IsTransient(new NpgsqlException("Exception while reading from stream", new EndOfStreamException())));
        Assert.True(PostgresErrors.IsTransient(new NpgsqlException("Failed to connect", new SocketException((int)SocketError.ConnectionRefused))));
        Assert.True(PostgresErrors.IsTransient(new TimeoutException()));
    }

    [Theory]
    [InlineData("22021")] // character_not_in_repertoire: a NUL in a name
    [InlineData("22P02")] // invalid_text_representation
    [InlineData("23505")] // unique_violation
    [InlineData("23514")] // check_violation
    public void Rows_at_fault_are_not_transient(string sqlState) =>
        Assert.False(PostgresErrors.IsTransient(Postgres(sqlState)));

    [Fact]
    public void Misuse_of_a_connection_or_a_mapping_is_not_an_outage()
    {
        Assert.False(PostgresErrors.IsTransient(new InvalidOperationException("Connection is not open")));
        Assert.False(PostgresErrors.IsTransient(new ObjectDisposedException("NpgsqlDataSource")));
        Assert.False(PostgresErrors.IsTransient(new OperationCanceledException()));
    }

    [Theory]
    [InlineData("22021", true)]
    [InlineData("23505", true)]
    [InlineData("40P01", false)]
    [InlineData("57P01", false)]
    public void Only_data_and_integrity_errors_are_bad_data(string sqlState, bool bad) =>
        Assert.Equal(bad, PostgresErrors.IsBadData(Postgres(sqlState)));

    [Theory]
    [InlineData("40P01", true)]
    [InlineData("40001", true)]
    [InlineData("08006", false)] // the commit may have happened: not safe to run again blindly
    [InlineData("23505", false)]
    public void Only_a_deadlock_or_a_serialisation_failure_is_a_conflict_to_run_again(string sqlState, bool conflict) =>
        Assert.Equal(conflict, PostgresErrors.IsConflict(Postgres(sqlState)));

    private static PostgresException Postgres(string sqlState) => new("refused", "ERROR", "ERROR", sqlState);
}

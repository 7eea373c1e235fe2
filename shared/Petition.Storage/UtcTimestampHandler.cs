using System.Data;
using System.Diagnostics.CodeAnalysis;
using System.Runtime.CompilerServices;
using Dapper;

namespace Petition.Storage;

/// <summary>
/// The one mapping of timestamptz for Dapper: Npgsql reads it as a UTC <see cref="DateTime"/>, the records speak
/// <see cref="DateTimeOffset"/> (at offset zero). Registered when this assembly loads, so every repository maps
/// with it however it was built (through AddPetitionStorage or by hand, as component tests do).
/// </summary>
internal sealed class UtcTimestampHandler : SqlMapper.TypeHandler<DateTimeOffset>
{
    private static int _registered;

    [ModuleInitializer]
    [SuppressMessage("Usage", "CA2255", Justification = "Dapper's type handlers are process-wide: without this one no record with a timestamp maps, so it must be there before any repository runs.")]
    internal static void Register()
    {
        if (Interlocked.Exchange(ref _registered, 1) == 0) SqlMapper.AddTypeHandler(new UtcTimestampHandler());
    }

    public override DateTimeOffset Parse(object value) =>
        value is DateTime utc ? new DateTimeOffset(DateTime.SpecifyKind(utc, DateTimeKind.Utc)) : (DateTimeOffset)value;

    // Dapper binds a DateTimeOffset parameter itself, before asking a handler; this is what it would do.
    public override void SetValue(IDbDataParameter parameter, DateTimeOffset value)
    {
        ArgumentNullException.ThrowIfNull(parameter);
        parameter.DbType = DbType.DateTimeOffset;
        parameter.Value = value;
    }
}

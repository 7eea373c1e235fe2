using System.Data;
using Dapper;

namespace Petition.Storage;

/// <summary>
/// The one mapping of timestamptz for Dapper: Npgsql reads it as a UTC <see cref="DateTime"/>, the records speak
/// <see cref="DateTimeOffset"/> (at offset zero). Registered once per process, by AddPetitionStorage.
/// </summary>
internal sealed class UtcTimestampHandler : SqlMapper.TypeHandler<DateTimeOffset>
{
    private static int _registered;

    public static void Register()
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

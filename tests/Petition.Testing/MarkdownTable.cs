namespace Petition.Testing;

/// <summary>The tables suites write as they run (test.sh prints them at the end of a run).</summary>
public static class MarkdownTable
{
    private static readonly SemaphoreSlim Writing = new(1, 1);

    /// <summary>Appends one row, writing the header first when the file is new; right-aligned columns are numbers.</summary>
    public static async Task AppendAsync(string path, string[] header, bool[] rightAligned, string[] row)
    {
        ArgumentNullException.ThrowIfNull(header);
        ArgumentNullException.ThrowIfNull(rightAligned);
        ArgumentNullException.ThrowIfNull(row);
        await Writing.WaitAsync();
        try
        {
            Directory.CreateDirectory(Path.GetDirectoryName(path)!);
            if (!File.Exists(path))
            {
                await File.WriteAllTextAsync(path, $"| {string.Join(" | ", header)} |\n| {string.Join(" | ", rightAligned.Select(r => r ? "---:" : "---"))} |\n");
            }

            await File.AppendAllTextAsync(path, $"| {string.Join(" | ", row)} |\n");
        }
        finally
        {
            Writing.Release();
        }
    }
}

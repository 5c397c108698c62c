namespace Amalgam.OnnxIO.Tests.Runtime;

/// <summary>Locates tests/fixtures from the test binary's folder (the repository root holds Engine.sln).</summary>
internal static class RuntimeTestFiles
{
    private static readonly Lazy<string> s_fixtures = new(() =>
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "Engine.sln")))
                return Path.Combine(dir.FullName, "tests", "fixtures");
        }
        throw new DirectoryNotFoundException($"no Engine.sln above {AppContext.BaseDirectory}");
    });

    public static string Fixture(string fileName) => Path.Combine(s_fixtures.Value, fileName);
}

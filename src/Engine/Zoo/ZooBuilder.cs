namespace Amalgam.Engine.Zoo;

/// <summary>Builds the zoo (or loads it from the cache). Placeholder until the zoo lands (issue 8).</summary>
public static class ZooBuilder
{
    public static Zoo BuildOrLoad(ZooOptions options) => throw new NotImplementedException("the zoo is being built (issue 8)");
}

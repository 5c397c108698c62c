using BenchmarkDotNet.Columns;
using BenchmarkDotNet.Reports;
using BenchmarkDotNet.Running;

namespace Amalgam.Bench.Merge;

/// <summary>
/// A column turning Mean times into bandwidth ratios against the baseline copy of the same run.
/// Each benchmark declares (bytes read, bytes written) per call; the baseline copy reads and writes
/// the same count. "read" = (kernel bytes read / t) / (copy bytes copied / t_copy); "traffic" =
/// ((read + written) / t) / ((copy read + written) / t_copy).
/// </summary>
public sealed class BandwidthRatioColumn(string header, bool traffic, IReadOnlyDictionary<string, (double Read, double Written)> bytes) : IColumn
{
    public string Id => nameof(BandwidthRatioColumn) + header;
    public string ColumnName => header;
    public bool AlwaysShow => true;
    public ColumnCategory Category => ColumnCategory.Custom;
    public int PriorityInCategory => traffic ? 1 : 0;
    public bool IsNumeric => true;
    public UnitType UnitType => UnitType.Dimensionless;
    public string Legend => traffic ? "(read+written)/s of the kernel over (read+written)/s of the copy" : "bytes read/s of the kernel over bytes copied/s";
    public bool IsAvailable(Summary summary) => true;
    public bool IsDefault(Summary summary, BenchmarkCase benchmarkCase) => false;
    public string GetValue(Summary summary, BenchmarkCase benchmarkCase, SummaryStyle style) => GetValue(summary, benchmarkCase);

    public string GetValue(Summary summary, BenchmarkCase benchmarkCase)
    {
        var baseline = summary.BenchmarksCases.FirstOrDefault(b => b.Descriptor.Baseline);
        if (baseline is null || summary[baseline]?.ResultStatistics is not { } copy || summary[benchmarkCase]?.ResultStatistics is not { } kernel)
            return "?";
        if (!bytes.TryGetValue(benchmarkCase.Descriptor.WorkloadMethod.Name, out var k) || !bytes.TryGetValue(baseline.Descriptor.WorkloadMethod.Name, out var c))
            return "?";
        double kernelRate = (traffic ? k.Read + k.Written : k.Read) / kernel.Mean;
        double copyRate = (traffic ? c.Read + c.Written : c.Read) / copy.Mean;
        double gbps = (traffic ? k.Read + k.Written : k.Read) / kernel.Mean; // bytes per ns = GB/s
        return $"{kernelRate / copyRate:0.00} ({gbps:0.0} GB/s)";
    }
}

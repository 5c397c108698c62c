using System.Globalization;
using System.Text.Json;
using Amalgam.Engine.Merging;
using Amalgam.Engine.Tests.Support;
using Amalgam.Kernels;

namespace Amalgam.Engine.Tests.Methods;

/// <summary>
/// Runs one method through <see cref="Merger.Merge"/> on safetensors files and compares every merged
/// element with an f64 reference: f32/f64 outputs within a relative bound of the element's term
/// scale, f16/bf16 outputs within 1 ulp of the reference rounded to the dtype.
/// </summary>
public sealed class MethodRun
{
    public required Dictionary<string, double[]> Theta0 { get; init; }
    public required List<Dictionary<string, double[]>> Thetas { get; init; }
    public required Dictionary<string, double[]> Merged { get; init; }
    public required Dictionary<string, DType> DTypes { get; init; }
    public required MergeResult Result { get; init; }

    public int K => Thetas.Count;

    /// <summary>The method's report object (MergeMethod.WriteReport) parsed.</summary>
    public JsonElement Report => JsonDocument.Parse(Result.MethodResultsJson).RootElement;

    public static MergeResult Merge(string method, string @base, string[] tasks, string @out, IReadOnlyDictionary<string, string>? set = null, int threads = 0) =>
        Merger.Merge(new MergeRequest
        {
            Method = method, Base = @base, Models = tasks, Out = @out,
            Set = set ?? new Dictionary<string, string>(), Threads = threads,
        });

    public static MethodRun Run(string dir, string method, string @base, string[] tasks, IReadOnlyList<Spec> specs,
        IReadOnlyDictionary<string, string>? set = null)
    {
        string @out = Path.Combine(dir, $"{method}-{Guid.NewGuid():N}.safetensors");
        var result = Merge(method, @base, tasks, @out, set);
        return new MethodRun
        {
            Theta0 = TestModels.ReadSafetensors(@base),
            Thetas = tasks.Select(TestModels.ReadSafetensors).ToList(),
            Merged = TestModels.ReadSafetensors(@out),
            DTypes = specs.ToDictionary(s => s.Name, s => s.DType),
            Result = result,
        };
    }

    /// <summary>
    /// Asserts every element: <paramref name="reference"/>(name, i) gives the f64 value and the
    /// scale the relative bound <paramref name="tolerance"/> applies to.
    /// </summary>
    public void AssertMatches(Func<string, int, (double Value, double Scale)> reference, double tolerance)
    {
        Assert.That(Merged.Keys, Is.EquivalentTo(DTypes.Keys));
        foreach (var (name, actual) in Merged)
        {
            DType dt = DTypes[name];
            for (int i = 0; i < actual.Length; i++)
            {
                var (value, scale) = reference(name, i);
                if (dt is DType.F32 or DType.F64)
                    Assert.That(Math.Abs(actual[i] - value), Is.LessThanOrEqualTo(tolerance * scale + 1e-30), $"{name}[{i}]: reference {value}");
                else
                    Assert.That(Ulp.Distance(actual[i], Ulp.Round(value, dt), dt), Is.LessThanOrEqualTo(1), $"{name}[{i}] ({dt}): {actual[i]} vs reference {value}");
            }
        }
    }

    /// <summary>tau_k of one element in f64.</summary>
    public double Tau(int k, string name, int i) => Thetas[k][name][i] - Theta0[name][i];

    public static Dictionary<string, string> Set(params (string Name, object Value)[] values) =>
        values.ToDictionary(v => v.Name, v => Convert.ToString(v.Value, CultureInfo.InvariantCulture)!);
}

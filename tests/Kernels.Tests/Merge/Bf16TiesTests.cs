using System.Runtime.InteropServices;
using Amalgam.Kernels.Merge;
using NUnit.Framework;
using static Amalgam.Kernels.Tests.Merge.MergeTestData;

namespace Amalgam.Kernels.Tests.Merge;

/// <summary>
/// <see cref="Bf16Merge.TiesMerge"/> (the fused bf16 TIES merge pass) must give exactly the bits of the
/// f32 path it replaces (widen the bf16 tiles, <see cref="Ties.SubtractTrim"/> per task, then
/// <see cref="Ties.ElectMergeAddScaled"/>) and its kept counts must be the non-zero trimmed entries;
/// the sum mode is also checked against TIES written in float64. Lengths 1..4099 run every vector
/// width (16, 8, 4 lanes mop up what the wider loop leaves) and the scalar tail.
/// </summary>
public class Bf16TiesTests
{
    private static IEnumerable<TestCaseData> Cases() =>
        from n in Lengths
        from k in new[] { 0, 1, 3, 8 }
        from weighted in new[] { false, true }
        select new TestCaseData(n, k, weighted);

    /// <summary>bf16 bit patterns near theta0: copies of theta0 (tau = 0), +-0, subnormals and small differences.</summary>
    private static ushort[] Bf16Near(System.Random rng, float[] theta0) => theta0.Select(t => rng.Next(10) switch
    {
        0 => (ushort)(BitConverter.SingleToUInt32Bits(t) >> 16),
        1 => (ushort)(rng.Next(2) << 15),
        2 => (ushort)((rng.Next(2) << 15) | rng.Next(1, 128)),
        _ => (ushort)(BitConverter.SingleToUInt32Bits(t + (float)((rng.NextDouble() * 2 - 1) * 0.1)) >> 16),
    }).ToArray();

    private static float[] Widen(ushort[] x) => x.Select(b => BitConverter.UInt32BitsToSingle((uint)b << 16)).ToArray();

    private static int[] Bits(float[] x) => x.Select(BitConverter.SingleToInt32Bits).ToArray();

    /// <summary>The f32 path: trimmed f32 tiles, then the fused elect/merge/add kernel; kept = non-zero trimmed entries.</summary>
    private static float[] F32Path(float[] theta0, ushort[][] bf, float[] thresholds, float[] weights, float zeroSign, TiesMergeMode mode,
        float lambda, out long[] kept, out float[][] trimmed)
    {
        int n = theta0.Length;
        trimmed = bf.Select(_ => new float[n]).ToArray();
        for (int t = 0; t < bf.Length; t++) Ties.SubtractTrim(Widen(bf[t]), theta0, thresholds[t], trimmed[t]);
        kept = trimmed.Select(t => (long)t.Count(v => v != 0f)).ToArray();
        var output = new float[n];
        Ties.ElectMergeAddScaled(new TileSet(Stack(trimmed), bf.Length, n), weights, zeroSign, mode, theta0, lambda, output);
        return output;
    }

    private static float[] Fused(float[] theta0, ushort[][] bf, float[] thresholds, float[] weights, float zeroSign, TiesMergeMode mode,
        float lambda, long[] kept)
    {
        var handles = bf.Select(b => GCHandle.Alloc(b, GCHandleType.Pinned)).ToArray();
        try
        {
            var output = new float[theta0.Length];
            Bf16Merge.TiesMerge(theta0, handles.Select(h => h.AddrOfPinnedObject()).ToArray(), thresholds, weights, zeroSign, mode, lambda, output, kept);
            return output;
        }
        finally
        {
            foreach (var h in handles) h.Free();
        }
    }

    [TestCaseSource(nameof(Cases))]
    public void BitIdenticalToF32PathWithKeptCountsAllModes(int n, int k, bool weighted)
    {
        var rng = new System.Random(n * 31 + k * 7 + (weighted ? 1 : 0));
        var theta0 = Uniform(rng, n, 2).Select((v, i) => i % 2 == 0 ? BitConverter.UInt32BitsToSingle(BitConverter.SingleToUInt32Bits(v) & 0xFFFF0000u) : v).ToArray();
        var bf = Enumerable.Range(0, k).Select(_ => Bf16Near(rng, theta0)).ToArray();
        var weights = weighted ? Enumerable.Range(0, k).Select(_ => (float)(rng.NextDouble() * 2 - 0.5)).ToArray() : [];
        // Thresholds: keep all (0), keep non-zero (smallest subnormal), typical, exactly some |tau| (ties kept).
        float[] Thresholds(int variant) => Enumerable.Range(0, k).Select(t => variant switch
        {
            0 => 0f,
            1 => float.Epsilon,
            2 => 0.04f,
            _ => n == 0 ? 1f : Math.Abs(Widen(bf[t])[n / 2] - theta0[n / 2]),
        }).ToArray();
        foreach (TiesMergeMode mode in Enum.GetValues<TiesMergeMode>())
            foreach (float zeroSign in new[] { 1f, -1f })
                for (int variant = 0; variant < 4; variant++)
                {
                    var thresholds = Thresholds(variant);
                    var expected = F32Path(theta0, bf, thresholds, weights, zeroSign, mode, 0.3f, out var expectedKept, out _);
                    var kept = Enumerable.Repeat(5L, k).ToArray(); // counts are added to
                    var actual = Fused(theta0, bf, thresholds, weights, zeroSign, mode, 0.3f, kept);
                    string label = $"{mode}, zero sign {zeroSign}, thresholds {variant}";
                    Assert.That(Bits(actual), Is.EqualTo(Bits(expected)), label);
                    Assert.That(kept, Is.EqualTo(expectedKept.Select(c => c + 5)), label);
                }
    }

    [TestCase(4099, 8)]
    [TestCase(63, 3)]
    public void SumMatchesTiesInFloat64(int n, int k)
    {
        var rng = new System.Random(n + k);
        // Grid values (multiples of 1/4, exact in bf16): task vectors and their sums are exact, zeros and ties common.
        var theta0 = Grid(rng, n);
        var bf = Enumerable.Range(0, k).Select(_ => Grid(rng, n).Select(v => (ushort)(BitConverter.SingleToUInt32Bits(v) >> 16)).ToArray()).ToArray();
        var thresholds = Enumerable.Range(0, k).Select(t => 0.25f * (t % 3 + 1)).ToArray();
        var weights = Enumerable.Range(0, k).Select(t => 0.5f * (t % 2 + 1)).ToArray();
        const float lambda = 0.5f;
        var kept = new long[k];
        var actual = Fused(theta0, bf, thresholds, weights, 1f, TiesMergeMode.Sum, lambda, kept);
        var expectedKept = new long[k];
        for (int i = 0; i < n; i++)
        {
            var v = new double[k];
            for (int t = 0; t < k; t++)
            {
                double tau = (double)Widen(bf[t])[i] - theta0[i];
                bool keep = Math.Abs(tau) >= thresholds[t] && tau != 0;
                if (keep) expectedKept[t]++;
                v[t] = keep ? weights[t] * tau : 0;
            }
            int g = Math.Sign(v.Sum()) is var s && s != 0 ? s : 1;
            double merged = v.Where(x => x != 0 && Math.Sign(x) == g).Sum();
            Assert.That(actual[i], Is.EqualTo(theta0[i] + lambda * merged).Within(1e-6 * (Math.Abs(theta0[i]) + Math.Abs(merged))), $"element {i}");
        }
        Assert.That(kept, Is.EqualTo(expectedKept));
    }

    [Test]
    public void NonFiniteValuesGiveTheBitsOfTheF32Path()
    {
        const int n = 67;
        var rng = new System.Random(3);
        var theta0 = Uniform(rng, n);
        var bf = Enumerable.Range(0, 4).Select(_ => Bf16Near(rng, theta0)).ToArray();
        for (int i = 0; i < n; i += 5) bf[i % 4][i] = (ushort)(i % 10 == 0 ? 0x7F80 : 0xFF80); // +-inf tasks: inf tau, NaN v under a 0 weight
        var thresholds = new[] { 0.01f, 0f, float.NaN, 0.05f };
        foreach (var weights in new[] { new[] { 1f, 0f, 1f, 2f }, new[] { float.NaN, 1f, 1f, 1f }, new[] { float.PositiveInfinity, -1f, 1f, 0.5f } })
            foreach (TiesMergeMode mode in Enum.GetValues<TiesMergeMode>())
            {
                var expected = F32Path(theta0, bf, thresholds, weights, -1f, mode, 0.3f, out var expectedKept, out _);
                var kept = new long[4];
                var actual = Fused(theta0, bf, thresholds, weights, -1f, mode, 0.3f, kept);
                Assert.That(Bits(actual), Is.EqualTo(Bits(expected)), $"{mode}, weights {string.Join(' ', weights)}");
                Assert.That(kept, Is.EqualTo(expectedKept));
            }
    }

    [Test]
    public void RejectsBadArguments()
    {
        var pointers = new nint[] { 1 };
        Assert.Throws<ArgumentException>(() => Bf16Merge.TiesMerge(new float[4], pointers, [], [], 1f, TiesMergeMode.Sum, 1f, new float[4], []));
        Assert.Throws<ArgumentException>(() => Bf16Merge.TiesMerge(new float[3], pointers, [0f], [], 1f, TiesMergeMode.Sum, 1f, new float[4], []));
        Assert.Throws<ArgumentException>(() => Bf16Merge.TiesMerge(new float[4], pointers, [0f], [1f, 2f], 1f, TiesMergeMode.Sum, 1f, new float[4], []));
        Assert.Throws<ArgumentException>(() => Bf16Merge.TiesMerge(new float[4], pointers, [0f], [], 1f, TiesMergeMode.Sum, 1f, new float[4], new long[2]));
        Assert.Throws<ArgumentException>(() => Bf16Merge.TiesMerge(new float[4], new nint[] { 0 }, [0f], [], 1f, TiesMergeMode.Sum, 1f, new float[4], []));
        Assert.Throws<ArgumentOutOfRangeException>(() => Bf16Merge.TiesMerge(new float[4], pointers, [0f], [], 0f, TiesMergeMode.Sum, 1f, new float[4], []));
    }
}

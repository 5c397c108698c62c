using System.Runtime.InteropServices;
using Amalgam.Kernels.Merge;
using NUnit.Framework;
using static Amalgam.Kernels.Tests.Merge.MergeTestData;

namespace Amalgam.Kernels.Tests.Merge;

/// <summary>
/// The bf16 kernels must give exactly the bits of the f32 path they replace: widen the bf16 input
/// to f32 (an exact conversion, checked against (uint)x &lt;&lt; 16 here), then run the f32 kernel.
/// Inputs are NaN-free but include zeros of both signs, subnormals, entries equal to theta0 and
/// thresholds equal to some |tau|.
/// </summary>
public class Bf16MergeTests
{
    private static readonly int[] Sizes = Lengths;

    private static IEnumerable<TestCaseData> Cases() =>
        from n in Lengths from k in new[] { 0, 1, 3, 8 } select new TestCaseData(n, k);

    /// <summary>bf16 bit patterns near theta0 (so task vectors are small), with some exact copies of theta0, zeros and subnormals.</summary>
    private static ushort[] Bf16Near(System.Random rng, float[] theta0)
    {
        var x = new ushort[theta0.Length];
        for (int i = 0; i < x.Length; i++)
        {
            float v = theta0[i] + (float)((rng.NextDouble() * 2 - 1) * 0.1);
            x[i] = rng.Next(10) switch
            {
                0 => (ushort)(BitConverter.SingleToUInt32Bits(theta0[i]) >> 16), // tau = 0 when theta0 is bf16-exact
                1 => (ushort)(rng.Next(2) << 15),                                  // +-0
                2 => (ushort)((rng.Next(2) << 15) | rng.Next(1, 128)),             // subnormal
                _ => (ushort)(BitConverter.SingleToUInt32Bits(v) >> 16),
            };
        }
        return x;
    }

    private static float[] Widen(ushort[] x) => x.Select(b => BitConverter.UInt32BitsToSingle((uint)b << 16)).ToArray();

    private static int[] Bits(float[] x) => x.Select(BitConverter.SingleToInt32Bits).ToArray();

    /// <summary>theta0 mixing bf16-exact values (as when theta0 is itself stored bf16) and arbitrary floats.</summary>
    private static float[] Theta0(System.Random rng, int n) =>
        Uniform(rng, n, 2).Select((v, i) => i % 2 == 0 ? BitConverter.UInt32BitsToSingle(BitConverter.SingleToUInt32Bits(v) & 0xFFFF0000u) : v).ToArray();

    [Test]
    public void WideningMatchesConvert16()
    {
        var all = Enumerable.Range(0, 65536).Select(i => (ushort)i).Where(b => (b & 0x7F80) != 0x7F80).ToArray(); // every non-NaN/inf pattern
        var converted = new float[all.Length];
        Convert16.BFloat16ToSingle(all, converted);
        Assert.That(Bits(Widen(all)), Is.EqualTo(Bits(converted)));
    }

    [TestCaseSource(nameof(Cases))]
    public unsafe void TaskArithmeticMerge_BitIdenticalToF32Kernel(int n, int k)
    {
        var rng = new System.Random(n * 131 + k);
        var theta0 = Theta0(rng, n);
        var bf = Enumerable.Range(0, k).Select(_ => Bf16Near(rng, theta0)).ToArray();
        var weights = Uniform(rng, k, 2);
        float lambda = 0.3f;
        var expected = new float[n];
        TaskArithmetic.Merge(theta0, new TileSet(Stack(bf.Select(Widen).ToArray()), k, n), weights, lambda, expected);

        var handles = bf.Select(b => GCHandle.Alloc(b, GCHandleType.Pinned)).ToArray();
        try
        {
            var pointers = handles.Select(h => h.AddrOfPinnedObject()).ToArray();
            var actual = new float[n];
            Bf16Merge.TaskArithmeticMerge(theta0, pointers, weights, lambda, actual);
            Assert.That(Bits(actual), Is.EqualTo(Bits(expected)));
        }
        finally
        {
            foreach (var h in handles) h.Free();
        }
    }

    [TestCaseSource(nameof(Sizes))]
    public void SubtractTrimBitIdenticalToF32KernelAndCountsKept(int n)
    {
        var rng = new System.Random(n * 7 + 1);
        var theta0 = Theta0(rng, n);
        var theta = Bf16Near(rng, theta0);
        var wide = Widen(theta);
        var taus = wide.Select((v, i) => Math.Abs(v - theta0[i])).ToArray();
        foreach (float threshold in new[] { 0f, 0.05f, n > 0 ? taus[n / 2] : 1f, float.Epsilon })
        {
            var expected = new float[n];
            Ties.SubtractTrim(wide, theta0, threshold, expected);
            var actual = new float[n];
            long kept = Bf16Merge.SubtractTrim(theta, theta0, threshold, actual);
            Assert.That(Bits(actual), Is.EqualTo(Bits(expected)), $"threshold {threshold}");
            Assert.That(kept, Is.EqualTo(expected.Count(v => v != 0f)), $"threshold {threshold}");
        }
    }

    [TestCaseSource(nameof(Sizes))]
    public void SubtractBitIdenticalToF32Kernel(int n)
    {
        var rng = new System.Random(n * 5 + 3);
        var theta0 = Theta0(rng, n);
        var theta = Bf16Near(rng, theta0);
        var expected = new float[n];
        TaskArithmetic.SubtractInto(Widen(theta), theta0, expected);
        var actual = new float[n];
        Bf16Merge.Subtract(theta, theta0, actual);
        Assert.That(Bits(actual), Is.EqualTo(Bits(expected)));
    }

    [Test]
    public void RejectsMismatchedLengths()
    {
        Assert.Throws<ArgumentException>(() => Bf16Merge.SubtractTrim(new ushort[3], new float[4], 0f, new float[4]));
        Assert.Throws<ArgumentException>(() => Bf16Merge.TaskArithmeticMerge(new float[4], [], [1f], 1f, new float[4]));
        Assert.Throws<ArgumentException>(() => Bf16Merge.TaskArithmeticMerge(new float[4], [], [], 1f, new float[5]));
    }
}

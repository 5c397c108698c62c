using NUnit.Framework;
using Amalgam.Kernels.Rng;

namespace Amalgam.Kernels.Tests.Rng;

public class PhiloxTests
{
    // Random123 kat_vectors, "philox4x32 10" lines: counter[4] key[2] -> output[4].
    private static readonly object[] KnownAnswers =
    [
        new uint[] { 0, 0, 0, 0, 0, 0, 0x6627e8d5, 0xe169c58d, 0xbc57ac4c, 0x9b00dbd8 },
        new uint[] { 0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff, 0x408f276d, 0x41c83b0e, 0xa20bc7c6, 0x6d5451fd },
        new uint[] { 0x243f6a88, 0x85a308d3, 0x13198a2e, 0x03707344, 0xa4093822, 0x299f31d0, 0xd16cfe09, 0x94fdcceb, 0x5001e420, 0x24126ea1 },
    ];

    [TestCaseSource(nameof(KnownAnswers))]
    public void BlockMatchesRandom123KnownAnswers(uint[] v)
    {
        var (x0, x1, x2, x3) = Philox.Block(v[0], v[1], v[2], v[3], v[4], v[5]);
        Assert.That(new[] { x0, x1, x2, x3 }, Is.EqualTo(v[6..10]));
    }

    [Test]
    public void FillBitsElementIsWordOfItsBlock()
    {
        // Element i = word i % 4 of the block at counter (i / 4, stream).
        // Zero key and stream: elements 0..3 are the first known answer (counter 0, key 0).
        var key = new PhiloxKey(0, 0, 0, 0);
        var bits = new uint[6];
        Philox.FillBits(key, 0, bits);
        var (y0, y1, _, _) = Philox.Block(1, 0, 0, 0, 0, 0);
        Assert.That(bits, Is.EqualTo(new uint[] { 0x6627e8d5, 0xe169c58d, 0xbc57ac4c, 0x9b00dbd8, y0, y1 }));
    }

    [TestCase(0L, 48)]   // one 8-block (AVX-512) group, then one 4-block (AVX2) group
    [TestCase(6L, 63)]
    [TestCase(0L, 1000)]
    [TestCase(1L, 999)]
    [TestCase(3L, 4099)]
    [TestCase(0xFFFF_FFF0L * 4 + 2, 777)] // block counter crosses 2^32: carry into the second word
    public void FillBitsVectorPathsEqualScalarPath(long start, int length)
    {
        var key = PhiloxKey.ForTensor(42, 3, "model.layers.0.mlp.up_proj.weight");
        var fast = new uint[length];
        var slow = new uint[length];
        Philox.FillBits(key, start, fast);
        Philox.FillBitsScalar(key, start, slow);
        Assert.That(fast, Is.EqualTo(slow));
    }

    [Test]
    public void FillBitsChunkedEqualsOneShot()
    {
        var key = PhiloxKey.ForTensor(7, 0, "w");
        const int n = 5000;
        var whole = new uint[n];
        Philox.FillBits(key, 100, whole);
        var rng = new System.Random(1);
        var pieces = new uint[n];
        for (int at = 0; at < n;)
        {
            int len = Math.Min(n - at, rng.Next(0, 70));
            Philox.FillBits(key, 100 + at, pieces.AsSpan(at, len));
            at += len;
        }
        Assert.That(pieces, Is.EqualTo(whole));
    }

    [Test]
    public void FillUniformIs24BitFractionOfTheBits()
    {
        var key = PhiloxKey.ForTensor(1, 2, "x");
        const int n = 4099;
        var u = new float[n];
        var bits = new uint[n];
        Philox.FillUniform(key, 5, u);
        Philox.FillBitsScalar(key, 5, bits);
        for (int i = 0; i < n; i++)
        {
            Assert.That((double)u[i], Is.EqualTo((bits[i] >> 8) / 16777216.0), $"element {i}");
            Assert.That(u[i], Is.GreaterThanOrEqualTo(0f).And.LessThan(1f));
        }
        Assert.That(u.Average(), Is.EqualTo(0.5).Within(4 * Math.Sqrt(1.0 / 12 / n)));
    }

    [TestCase("", 0xcbf29ce484222325UL)]
    [TestCase("a", 0xaf63dc4c8601ec8cUL)]
    [TestCase("foobar", 0x85944171f73967e8UL)]
    public void StableNameHashIsFnv1a64(string name, ulong expected) =>
        Assert.That(PhiloxKey.StableNameHash(name), Is.EqualTo(expected));

    [Test]
    public void StableNameHashHashesUtf8Bytes()
    {
        // FNV-1a over the two UTF-8 bytes of U+00E9, computed by hand from the definition.
        ulong h = 0xcbf29ce484222325UL;
        foreach (byte b in new byte[] { 0xC3, 0xA9 }) h = (h ^ b) * 0x100000001b3UL;
        Assert.That(PhiloxKey.StableNameHash("\u00e9"), Is.EqualTo(h));
        string longName = new('x', 2000);
        ulong hl = 0xcbf29ce484222325UL;
        for (int i = 0; i < 2000; i++) hl = (hl ^ (byte)'x') * 0x100000001b3UL;
        Assert.That(PhiloxKey.StableNameHash(longName), Is.EqualTo(hl));
    }

    [Test]
    public void ForTensorSeparatesSeedTaskAndName()
    {
        var a = PhiloxKey.ForTensor(42, 0, "w");
        Assert.That(PhiloxKey.ForTensor(42, 1, "w"), Is.Not.EqualTo(a));
        Assert.That(PhiloxKey.ForTensor(43, 0, "w"), Is.Not.EqualTo(a));
        Assert.That(PhiloxKey.ForTensor(42, 0, "v"), Is.Not.EqualTo(a));
        Assert.That(PhiloxKey.ForTensor(42, 0, "w"), Is.EqualTo(a));
    }
}

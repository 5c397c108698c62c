using Amalgam.Kernels;
using Amalgam.OnnxIO.Safetensors;
using FsCheck;
using FsCheck.Fluent;
using NUnit.Framework;
using static Amalgam.OnnxIO.Tests.Safetensors.SafetensorsTestFiles;

namespace Amalgam.OnnxIO.Tests.Safetensors;

/// <summary>Whatever the bytes, reading either works or is a <see cref="BadInputException"/>.</summary>
public class SafetensorsFuzzProperties
{
    private static byte[] _valid = [];
    private static int _headerEnd;
    private TempDir _dir = null!;

    [OneTimeSetUp]
    public void MakeValidFile()
    {
        _dir = new TempDir();
        string path = _dir.File("valid.safetensors");
        using var a = Random("a", DType.F32, [2, 3], 1);
        using var b = Random("b.weight", DType.BF16, [5], 2);
        using var c = Random("c", DType.Bool, [], 3);
        using var d = Random("d", DType.I64, [0, 4], 4);
        SafetensorsWriter.WriteAll(path, [a, b, c, d], new Dictionary<string, string> { ["format"] = "pt" });
        _valid = File.ReadAllBytes(path);
        _headerEnd = 8 + (int)BitConverter.ToInt64(_valid, 0);
    }

    [OneTimeTearDown]
    public void RemoveFiles() => _dir.Dispose();

    [Test]
    public void EveryTruncationIsBadInput()
    {
        // The data buffer ends exactly where the last tensor ends, so any shorter file lacks bytes.
        for (int length = 0; length < _valid.Length; length++)
        {
            var e = Assert.Throws<BadInputException>(() => ReadEverything(_valid[..length]), $"truncated to {length} bytes");
            Assert.That(e!.Message, Does.Not.Contain("\n"));
        }
        Assert.That(ReadEverything(_valid), Is.EqualTo(4), "the untouched file reads");
    }

    /// <summary>Bytes that matter to JSON or to the length prefix are more likely to hit edge cases.</summary>
    private static readonly byte[] Interesting = "{}[]\",:-.e0123456789 \\ntfu"u8.ToArray().Concat(new byte[] { 0, 0x7F, 0x80, 0xC0, 0xFF }).ToArray();

    [Test]
    public void MutatedFilesReadOrAreBadInput()
    {
        var position = Gen.Frequency(
            (6, Gen.Choose(8, _headerEnd - 1)),          // the JSON header
            (1, Gen.Choose(0, 7)),                       // the length prefix
            (1, Gen.Choose(0, _valid.Length - 1)));      // anywhere
        var value = Gen.OneOf(Gen.Elements(Interesting), Gen.Choose(0, 255).Select(i => (byte)i));
        var mutation = Gen.ListOf(Gen.Zip(position, value)).Resize(6);
        var truncate = Gen.Frequency((3, Gen.Constant(-1)), (1, Gen.Choose(0, _valid.Length)));
        var cases = Gen.Zip(mutation, truncate).ToArbitrary();

        Check.One(Config.QuickThrowOnFailure.WithMaxTest(3000), Prop.ForAll(cases, c =>
        {
            byte[] bytes = (byte[])_valid.Clone();
            foreach (var (at, b) in c.Item1) bytes[at] = b;
            if (c.Item2 >= 0) bytes = bytes[..c.Item2];
            try
            {
                ReadEverything(bytes);
            }
            catch (BadInputException e) when (!e.Message.Contains('\n'))
            {
            }
        }));
    }

    /// <summary>Opens the bytes and reads every byte of every tensor; returns the tensor count.</summary>
    private int ReadEverything(byte[] bytes)
    {
        string path = _dir.File("fuzz.safetensors");
        File.WriteAllBytes(path, bytes);
        using var file = SafetensorsFile.Open(path);
        foreach (var e in file.Entries)
        {
            using var t = file.Get(e.Name);
            SumBytes(t);
            Assert.That(t.ByteLength, Is.EqualTo(e.ByteLength));
        }
        return file.Entries.Count;
    }
}

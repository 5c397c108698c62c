using Amalgam.Kernels;
using Amalgam.OnnxIO.Safetensors;
using FsCheck;
using FsCheck.Fluent;
using NUnit.Framework;
using static Amalgam.OnnxIO.Tests.Safetensors.SafetensorsTestFiles;

namespace Amalgam.OnnxIO.Tests.Safetensors;

/// <summary>Whatever the index bytes, opening a sharded checkpoint either works or is a <see cref="BadInputException"/>.</summary>
public class ShardedFuzzProperties
{
    private static readonly byte[] Interesting = "{}[]\",:./\\-0123456789 ntx"u8.ToArray().Concat(new byte[] { 0, 0xFF }).ToArray();

    [Test]
    public void MutatedIndexesOpenOrAreBadInput()
    {
        using var dir = new TempDir();
        var tensors = new[] { Random("a", DType.F32, [4], 1), Random("b", DType.U8, [16], 2), Random("c", DType.I32, [3], 3) };
        ShardedSafetensorsWriter.WriteAll(dir.Path, tensors, maxShardBytes: 16);
        foreach (var t in tensors) t.Dispose();
        string indexPath = dir.File("model.safetensors.index.json");
        byte[] valid = File.ReadAllBytes(indexPath);

        var mutation = Gen.ListOf(Gen.Zip(Gen.Choose(0, valid.Length - 1), Gen.Elements(Interesting))).Resize(4);
        var truncate = Gen.Frequency((4, Gen.Constant(-1)), (1, Gen.Choose(0, valid.Length)));
        Check.One(Config.QuickThrowOnFailure.WithMaxTest(1000), Prop.ForAll(Gen.Zip(mutation, truncate).ToArbitrary(), c =>
        {
            byte[] bytes = (byte[])valid.Clone();
            foreach (var (at, b) in c.Item1) bytes[at] = b;
            if (c.Item2 >= 0) bytes = bytes[..c.Item2];
            File.WriteAllBytes(indexPath, bytes);
            try
            {
                using var source = (ShardedSafetensors)SafetensorsSource.Open(indexPath);
                source.ValidateAll();
                foreach (string name in source.Names)
                {
                    using var t = source.Get(name);
                    SumBytes(t);
                }
            }
            catch (BadInputException e) when (!e.Message.Contains('\n'))
            {
            }
        }));
    }
}

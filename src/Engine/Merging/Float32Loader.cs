using Amalgam.Engine.Checkpoints;
using Amalgam.Kernels;

namespace Amalgam.Engine.Merging;

/// <summary>
/// Loads checkpoint tensors in their stored dtype (methods convert tiles to f32 on the fly through
/// <see cref="Methods.TensorGroup"/>), and converts whole tensors to and from f32 where a whole
/// tensor is needed (task-private copies, the merged output, the data-dependent methods' statistics):
/// the one home of f32 loading.
/// </summary>
public static class Float32Loader
{
    /// <summary>The tensor as stored (usually a view of the checkpoint); adds its bytes to <paramref name="bytesRead"/>.</summary>
    public static Tensor Load(ICheckpoint c, string name, ref long bytesRead)
    {
        var stored = c.Load(name);
        bytesRead += stored.ByteLength;
        return stored;
    }

    /// <summary>A float tensor in f32: the same tensor when stored as f32, else a converted copy (the caller disposes both).</summary>
    public static Tensor ToFloat32(Tensor stored)
    {
        if (stored.DType == DType.F32) return stored;
        var f = Tensor.Allocate(stored.Name, DType.F32, stored.Shape, zero: false);
        var plan = ChunkPlan.For<float>(stored.ElementCount);
        ParallelChunks.For(plan, ch => DTypeConvert.ToFloat32(stored, f.Write<float>(ch.Start, (int)ch.Length), ch.Start));
        return f;
    }

    /// <summary>An f32 tensor in <paramref name="dtype"/>: the same tensor for f32, else a converted copy.</summary>
    public static Tensor Convert(Tensor f32, DType dtype)
    {
        if (dtype == DType.F32) return f32;
        var o = Tensor.Allocate(f32.Name, dtype, f32.Shape, zero: false);
        var plan = ChunkPlan.For<float>(f32.ElementCount);
        ParallelChunks.For(plan, ch => DTypeConvert.FromFloat32(f32.Read<float>(ch.Start, (int)ch.Length), o, ch.Start));
        return o;
    }

    /// <summary>Drops a mapped tensor's pages from the resident set, then disposes it.</summary>
    public static void Release(Tensor t)
    {
        t.DropResidentPages();
        t.Dispose();
    }

    /// <summary>A parameter of a checkpoint in f32 (stored layout).</summary>
    public static float[] ArrayOf(ICheckpoint checkpoint, string name)
    {
        using var t = checkpoint.Load(name);
        return ToArray(t);
    }

    /// <summary>A tensor in f32 as an array (stored layout).</summary>
    public static float[] ToArray(Tensor t)
    {
        var v = new float[t.ElementCount];
        DTypeConvert.ToFloat32(t, v, 0);
        return v;
    }
}

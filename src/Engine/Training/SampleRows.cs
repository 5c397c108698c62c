using Amalgam.Kernels;

namespace Amalgam.Engine.Training;

/// <summary>Contiguous runs of samples (rows of the first axis) copied out of a sample tensor, for batched runs.</summary>
internal static class SampleRows
{
    /// <summary>
    /// Rows [start, start + count) of <paramref name="source"/> as a new tensor named like it, of
    /// <paramref name="shape"/> (null: the source's own dims with <paramref name="count"/> rows); the
    /// shape must hold the same bytes per row (e.g. images [N, 28, 28] fed as [count, 1, 28, 28]).
    /// </summary>
    public static Tensor Copy(Tensor source, long start, long count, long[]? shape = null)
    {
        if (shape is null)
        {
            shape = source.Shape.ToArray();
            shape[0] = count;
        }
        long rowBytes = source.ByteLength / source.Shape[0];
        var t = Tensor.Allocate(source.Name, source.DType, shape, zero: false);
        if (t.ByteLength != rowBytes * count)
        {
            t.Dispose();
            throw new InvalidOperationException($"shape {Shapes.Format(shape)} does not hold {count} rows of '{source.Name}'");
        }
        source.Read<byte>(start * rowBytes, checked((int)(count * rowBytes))).CopyTo(t.Write<byte>());
        return t;
    }

    /// <summary>
    /// Row indices[j] of every sample tensor in <paramref name="samples"/> into row j of the batch
    /// tensor of the same name in <paramref name="batch"/> (same bytes per row, at least indices.Length rows).
    /// </summary>
    public static unsafe void Gather(IReadOnlyDictionary<string, Tensor> samples, IReadOnlyDictionary<string, Tensor> batch, ReadOnlySpan<int> indices)
    {
        foreach (var (name, source) in samples)
        {
            var dest = batch[name];
            long row = source.ByteLength / source.Shape[0];
            if (dest.ByteLength < row * indices.Length) throw new InvalidOperationException($"'{name}': the batch holds fewer than {indices.Length} rows");
            for (int j = 0; j < indices.Length; j++)
                Buffer.MemoryCopy(source.Pointer + indices[j] * row, dest.Pointer + j * row, row, row);
        }
    }
}

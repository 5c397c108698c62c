using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using Amalgam.Kernels.Merge;
using Amalgam.Kernels;

namespace Amalgam.Engine.Merging;

/// <summary>
/// One shared parameter tensor of every model: theta0 (the base) and theta_1..theta_K (the task
/// models), held in their STORED dtype (f32, f16, bf16 or f64; usually read-only views of the
/// checkpoints). Methods read them as f32 tiles through <see cref="Theta0Tile"/>,
/// <see cref="ThetaTile"/> and <see cref="ThetaTiles"/>: a zero-copy view when stored as f32, else
/// converted into the caller's scratch (exact for f16/bf16, round-to-nearest for f64), so a bf16
/// merge never materialises a whole f32 copy of its inputs (that costs an extra 4 B write + 4 B read
/// per element; a tile of <see cref="TileElements"/> stays in L2). Methods never write the tensors.
/// <see cref="Index"/> is the tensor's position in the problem's sorted shared names, the fixed
/// order of "global" statistics.
/// </summary>
public sealed class TensorGroup(string name, int index, Tensor theta0, IReadOnlyList<Tensor> tasks)
{
    /// <summary>Elements per conversion tile: K + 1 tiles of 32 KiB f32 (K = 8) plus the output tile fit L2.</summary>
    public const int TileElements = 8 << 10;

    public string Name { get; } = name;
    public int Index { get; } = index;

    /// <summary>The base tensor in its stored dtype.</summary>
    public Tensor Theta0 { get; } = theta0;

    /// <summary>The task tensors in their stored dtype.</summary>
    public IReadOnlyList<Tensor> Thetas { get; } = tasks;

    public int K => Thetas.Count;
    public long Length => Theta0.ElementCount;
    public ReadOnlySpan<long> Shape => Theta0.Shape;

    /// <summary>Elements [start, start + length) of theta0 in f32 (a view, or converted into <paramref name="scratch"/>).</summary>
    public ReadOnlySpan<float> Theta0Tile(long start, int length, Span<float> scratch) => Float32Tile(Theta0, start, length, scratch);

    /// <summary>Elements [start, start + length) of task <paramref name="k"/> (0-based) in f32 (a view, or converted into <paramref name="scratch"/>).</summary>
    public ReadOnlySpan<float> ThetaTile(int k, long start, int length, Span<float> scratch) => Float32Tile(Thetas[k], start, length, scratch);

    /// <summary>
    /// Elements [start, start + length) of every task as a pointer <see cref="TileSet"/>: f32
    /// tensors are addressed in place, others converted into <paramref name="scratch"/> (tile k at
    /// k * length; at least K * length floats). The scratch must stay pinned (a `fixed` block or a
    /// pinned array) while the set is used; <paramref name="pointers"/> holds K entries.
    /// </summary>
    public unsafe TileSet ThetaTiles(long start, int length, Span<float> scratch, Span<nint> pointers)
    {
        for (int k = 0; k < K; k++)
        {
            var tile = ThetaTile(k, start, length, scratch.Slice(k * length, length));
            pointers[k] = (nint)Unsafe.AsPointer(ref MemoryMarshal.GetReference(tile));
        }
        return new TileSet(pointers[..K], length);
    }

    /// <summary>tau = theta_k - theta0 over elements [start, start + tau.Length), given theta0's tile (exact: conversion, then the f32 subtraction).</summary>
    public void TaskVectorTile(int k, long start, ReadOnlySpan<float> theta0, Span<float> tau)
    {
        if (Thetas[k].DType == DType.BF16)
        {
            Bf16Merge.Subtract(Thetas[k].Read<ushort>(start, tau.Length), theta0, tau); // widened in registers, same result
            return;
        }
        var theta = ThetaTile(k, start, tau.Length, tau); // converted in place when not f32; SubtractInto allows tau == theta
        Amalgam.Kernels.Merge.TaskArithmetic.SubtractInto(theta, theta0, tau);
    }

    /// <summary>
    /// tau = theta_k - theta0 zeroed where |tau| &lt; <paramref name="threshold"/> (TIES trim), fused; bf16
    /// tasks are read in place. Returns the entries of tau that are not +-0 when <paramref name="countKept"/>
    /// (counted in registers for bf16, by a pass over the hot tile otherwise), else 0.
    /// </summary>
    public long TrimmedTaskVectorTile(int k, long start, ReadOnlySpan<float> theta0, float threshold, Span<float> tau, bool countKept)
    {
        if (Thetas[k].DType == DType.BF16)
            return Bf16Merge.SubtractTrim(Thetas[k].Read<ushort>(start, tau.Length), theta0, threshold, tau);
        Amalgam.Kernels.Merge.Ties.SubtractTrim(ThetaTile(k, start, tau.Length, tau), theta0, threshold, tau);
        return countKept ? NonZero.Count(tau) : 0;
    }

    /// <summary>True when every task tensor is stored as bf16 (fused bf16 kernels can read them in place).</summary>
    public bool AllTasksBf16 => Thetas.All(t => t.DType == DType.BF16);

    /// <summary>Elements of any float tensor as f32: the tensor's own memory when it is f32, else converted into <paramref name="scratch"/>.</summary>
    public static ReadOnlySpan<float> Float32Tile(Tensor t, long start, int length, Span<float> scratch)
    {
        if (t.DType == DType.F32) return t.Read<float>(start, length);
        var dest = scratch[..length];
        DTypeConvert.ToFloat32(t, dest, start);
        return dest;
    }
}

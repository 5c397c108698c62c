using Amalgam.Kernels.AdaMerging;
using Amalgam.Kernels;

namespace Amalgam.Engine.Methods.AdaMerging;

/// <summary>
/// theta(lambda) = theta0 + sum_k c_k tau_k for every shared tensor, written into the buffers ONNX
/// Runtime reads (and, at the end, into the merged model): the task-vector store's slices in
/// parallel, each through the <see cref="ThetaCombine"/> kernel.
/// </summary>
internal static unsafe class ThetaWriter
{
    /// <summary>Writes theta(lambda) for the given slices. <paramref name="clamped"/> is [tensor * K + task].</summary>
    public static void Run(TaskVectorStore tv, WorkSlice[] slices, ReadOnlySpan<float> clamped, IReadOnlyList<Tensor> outputs)
    {
        int k = tv.K;
        float[] c = clamped.ToArray();
        ParallelChunks.For(new ChunkPlan(slices.Length, 1), chunk =>
        {
            var s = slices[chunk.Index];
            long n = tv.Theta0[s.Tensor].ElementCount;
            float* theta0 = (float*)tv.Theta0[s.Tensor].Pointer + s.Start;
            float* taus = (float*)tv.Taus[s.Tensor].Pointer + s.Start;
            float* output = (float*)outputs[s.Tensor].Pointer + s.Start;
            fixed (float* coefficients = &c[s.Tensor * k])
                ThetaCombine.Combine(theta0, taus, n, k, coefficients, output, s.Length);
        }, GradientReduction.Workers(tv));
    }
}

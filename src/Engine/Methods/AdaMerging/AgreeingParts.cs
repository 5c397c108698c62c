using Amalgam.Kernels;

namespace Amalgam.Engine.Methods.AdaMerging;

/// <summary>
/// AdaMerging++'s task vectors: from TIES-trimmed tiles, the entries that agree with the elected
/// sign. Per element, with the same IEEE operations as TIES' fused kernel (unit weights):
/// s = t_0; s = s + t_k (k = 1..K-1); g = sign(s), or <c>zeroSign</c> where s = 0; part_k = t_k if
/// t_k * g &gt; 0 else +0. Summing the parts from +0 in task order then gives exactly TIES' disjoint
/// sum (merge=sum). Runs once per merge (scalar: one pass over K model copies).
/// </summary>
internal static class AgreeingParts
{
    /// <summary>Writes part_k of elements [start, start + n) into row k of <paramref name="taus"/> ([K, rowLength]).</summary>
    public static void Write(ReadOnlySpan<float> trimmed, int k, int n, float zeroSign, Tensor taus, long rowLength, long start)
    {
        Span<float> signs = n <= 16384 ? stackalloc float[n] : new float[n];
        for (int i = 0; i < n; i++)
        {
            float s = trimmed[i];
            for (int t = 1; t < k; t++) s += trimmed[t * n + i];
            signs[i] = s > 0f ? 1f : s < 0f ? -1f : zeroSign;
        }
        for (int t = 0; t < k; t++)
        {
            var row = taus.Write<float>(t * rowLength + start, n);
            var src = trimmed.Slice(t * n, n);
            for (int i = 0; i < n; i++) row[i] = src[i] * signs[i] > 0f ? src[i] : 0f;
        }
    }
}

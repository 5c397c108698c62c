namespace Amalgam.Engine.Methods.AdaMerging;

/// <summary>
/// Where each learned coefficient lives in the flat raw-coefficient array: task-wise, entry k is
/// task k's lambda for every shared tensor; layer-wise, entry l * K + k is task k's lambda for
/// shared tensor l (tensors in the problem's sorted order). The pretrained model's coefficient is
/// fixed at 1 and not stored. The merge uses clamp(raw, 0, 1); the clamp's gradient is 1 on the
/// closed interval [0, 1] and 0 outside (as torch.clamp's backward).
/// </summary>
public sealed class CoefficientLayout(Granularity granularity, IReadOnlyList<string> tensors, int taskCount)
{
    public Granularity Granularity { get; } = granularity;

    /// <summary>Shared tensor names in merge order.</summary>
    public IReadOnlyList<string> Tensors { get; } = tensors;

    public int TaskCount { get; } = taskCount;

    /// <summary>Number of raw coefficients.</summary>
    public int Count => Granularity == Granularity.Task ? TaskCount : Tensors.Count * TaskCount;

    /// <summary>Index of task <paramref name="task"/>'s coefficient for shared tensor <paramref name="tensor"/>.</summary>
    public int Index(int tensor, int task) => Granularity == Granularity.Task ? task : tensor * TaskCount + task;

    public static float Clamp(float raw) => Math.Clamp(raw, 0f, 1f);

    /// <summary>d clamp(raw) / d raw: 1 inside [0, 1] (bounds included), else 0.</summary>
    public static bool Passes(float raw) => raw >= 0f && raw <= 1f;

    /// <summary>Clamped coefficients per tensor and task, [tensor * K + task], whatever the granularity.</summary>
    public float[] ClampedPerTensor(ReadOnlySpan<float> raw)
    {
        var c = new float[Tensors.Count * TaskCount];
        for (int l = 0; l < Tensors.Count; l++)
            for (int k = 0; k < TaskCount; k++) c[l * TaskCount + k] = Clamp(raw[Index(l, k)]);
        return c;
    }
}

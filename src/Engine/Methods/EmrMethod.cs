using System.Text.Json;
using Amalgam.Engine.Merging;
using Amalgam.Kernels;
using Amalgam.Kernels.Merge;

namespace Amalgam.Engine.Methods;

/// <summary>
/// EMR-Merging (Huang et al., NeurIPS 2024): one unified task vector (elected signs, largest agreeing
/// magnitude; <see cref="EmrMerge"/>), and per task a mask and one rescaler
/// lambda_i = sum_n mean|tau_i[n]| / sum_n mean|M_i[n] tau_uni[n]| (every tensor counts equally, as the
/// official code). Its output is one model per task, theta0 + lambda_i (M_i tau_uni), so --out is a folder
/// as with --private, and a task's model needs the task known at inference. Every shared tensor, elementwise.
/// One prepass collects the rescalers; the merge pass recomputes each tensor's masks (no K copies held).
/// A task whose denominator is 0 (nothing of tau_uni kept) gets lambda 0 where the official code would divide by zero.
/// </summary>
public sealed class EmrMethod : MergeMethod
{
    public static readonly MethodSpec Spec = new("emr",
        "EMR: per task theta0 + lambda_k (M_k * tau_uni), tau_uni = elected sign * max agreeing |tau|, lambda_k = sum mean|tau_k| / sum mean|M_k tau_uni| (one model per task)",
        [],
        _ => new EmrMethod());

    private float[] _numerator = [], _denominator = [];
    private float[] _lambdas = [];

    // The merge pass asks for every task's tensor in turn: the election of the tensor at hand is made once.
    private (int Index, float[][] Taus, float[] Flag, float[] Unified)? _elected;

    public override bool PerTaskModels => true;
    public override int PrepassCount => 1;

    public override void Observe(int pass, TensorGroup group)
    {
        var (taus, flag, unified) = Elect(group);
        if (_numerator.Length == 0) (_numerator, _denominator) = (new float[group.K], new float[group.K]);
        for (int i = 0; i < group.K; i++)
        {
            _numerator[i] += EmrMerge.MeanAbs(taus[i]);
            _denominator[i] += EmrMerge.MeanAbsMasked(taus[i], flag, unified);
        }
    }

    public override void EndPrepass(int pass) =>
        _lambdas = _numerator.Select((n, i) => _denominator[i] > 0f ? n / _denominator[i] : 0f).ToArray();

    public override void Merge(TensorGroup group, Tensor merged) => throw new NotSupportedException("emr writes one model per task");

    public override void MergeTask(TensorGroup group, int task, Tensor merged)
    {
        if (_elected?.Index != group.Index)
        {
            var (t, f, u) = Elect(group);
            _elected = (group.Index, t, f, u);
        }
        var (_, taus, flag, unified) = _elected.Value;
        int n = checked((int)group.Length);
        var theta0 = TensorGroup.Float32Tile(group.Theta0, 0, n, new float[n]);
        EmrMerge.Apply(theta0, taus[task], flag, unified, _lambdas[task], merged.Write<float>(0, n));
    }

    private static (float[][] Taus, float[] Flag, float[] Unified) Elect(TensorGroup group)
    {
        var taus = TaskVectors.OfGroup(group);
        int n = checked((int)group.Length);
        var flag = new float[n];
        var unified = new float[n];
        EmrMerge.Elect(taus, flag, unified);
        return (taus, flag, unified);
    }

    public override void Finish() => _elected = null;

    public override void WriteReport(Utf8JsonWriter writer)
    {
        writer.WriteStartArray("rescalers");
        foreach (float l in _lambdas) writer.WriteNumberValue(l);
        writer.WriteEndArray();
    }
}

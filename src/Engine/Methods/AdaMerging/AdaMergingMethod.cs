using System.Text.Json;
using Amalgam.Engine.Merging;
using Amalgam.Engine.Methods.AdaMerging;
using Amalgam.Kernels;

namespace Amalgam.Engine.Methods.AdaMerging;

/// <summary>
/// AdaMerging and AdaMerging++ (Yang et al., ICLR 2024; EnnengYang/AdaMerging): coefficients
/// lambda learned by minimising the prediction entropy on unlabeled inputs of every task, then
/// theta = theta0 + sum_k clamp(lambda_k, 0, 1) tau_k per shared tensor (task-private heads are
/// never merged). granularity=task: K coefficients; layer: one per task per shared tensor.
/// ties_preprocess=true (AdaMerging++) first replaces each tau_k by its TIES trimmed-and-agreeing
/// part (global top k, sign elected by sum). objective=im minimises SHOT's information maximisation
/// instead (mean entropy minus im_weight times the batch-marginal entropy). Every run measures each
/// task's predictions on a probe set and warns when one collapses onto a class (<see cref="CollapseRule"/>).
/// The training runs in <see cref="Prepare"/>
/// (<see cref="AdaMergingTrainer"/>); <see cref="Merge"/> writes the merged tensors with the same
/// fused kernel the training used.
/// </summary>
public sealed class AdaMergingMethod(AdaMergingOptions options) : MergeMethod
{
    public static readonly MethodSpec Spec = new("adamerging",
        "AdaMerging: coefficients per task (or per task and tensor) learned by entropy minimisation on unlabeled data; ties_preprocess=true is AdaMerging++",
        [
            ParameterSpec.Choice("granularity", "layer", "one coefficient per task per shared tensor (layer) or per task (task)", "layer", "task"),
            ParameterSpec.Float("init", 0.3, "initial value of every coefficient"),
            ParameterSpec.Float("lr", 1e-3, "Adam learning rate", min: 0),
            ParameterSpec.Float("beta1", 0.9, "Adam beta1", min: 0, max: 1, maxExclusive: true),
            ParameterSpec.Float("beta2", 0.999, "Adam beta2", min: 0, max: 1, maxExclusive: true),
            ParameterSpec.Float("eps", 1e-8, "Adam epsilon", min: 0),
            ParameterSpec.Int("steps", 500, "Adam steps", min: 0, max: int.MaxValue),
            ParameterSpec.Int("batch_size", 16, "inputs per batch", min: 1, max: 1 << 20),
            ParameterSpec.Int("batches_per_step", 2, "batches per task in each step's loss", min: 1, max: 1 << 20),
            ParameterSpec.Bool("shuffle", true, "shuffle each task's inputs every pass (seeded by --seed); false = file order, wrapping around"),
            ParameterSpec.Bool("ties_preprocess", false, "AdaMerging++: TIES trim (top k) and sign agreement of each task vector first"),
            ParameterSpec.Float("k", 0.2, "fraction of each task vector kept by the TIES trim (ties_preprocess)", min: 0, max: 1, minExclusive: true),
            ParameterSpec.Int("checkpoint_every", 50, "save the resumable state and measure the collapse diagnostics every N steps (0 = state only when interrupted, diagnostics at the start and end)", min: 0, max: int.MaxValue),
            ParameterSpec.Choice("objective", "entropy", "per task and batch: entropy = mean prediction entropy (the paper); im = information maximisation (SHOT): mean entropy - im_weight * entropy of the batch-mean prediction, which resists collapse onto one class", "entropy", "im"),
            ParameterSpec.Float("im_weight", 1.0, "objective=im: weight of the batch-marginal entropy (0 = entropy)", min: 0),
            ParameterSpec.Int("probe_samples", 256, "inputs per task (spread over its data) on which the collapse diagnostics are measured (0 = none)", min: 0, max: 1 << 20),
            ParameterSpec.Choice("step", "host", "where each step's merge, gradient sum, dot products and Adam run: host = SIMD kernels; device = ILGPU kernels on --device with theta and the gradients in device buffers ORT reads and writes in place (on cpu: ILGPU's CPU accelerator, slow, for checking; on cuda: unverified, see README). Same coefficients to rounding", "host", "device"),
            ParameterSpec.Float("collapse_share", 0.5, "warn when a task's most-predicted class takes more than this share of its probe inputs ((1 + share) / 2 for two classes), or its marginal entropy halves", min: 0, max: 1),
        ],
        s => new AdaMergingMethod(AdaMergingOptions.From(s))) { NeedsData = true };

    private TaskVectorStore? _vectors;
    private float[] _clamped = [];
    private CoefficientLayout? _layout;
    private float[] _raw = [];
    private double[] _losses = [];
    private string? _out;

    public override bool NeedsData => true;

    public override void Prepare(MergeContext context)
    {
        using var trainer = AdaMergingTrainer.Create(context.Problem, context.Data, options, context.Seed, context.Device);
        _watch = AdaMergingRun.Run(trainer, options, context);
        _layout = trainer.Layout;
        _raw = (float[])trainer.Raw.Clone();
        _clamped = trainer.Clamped();
        _losses = trainer.Losses.ToArray();
        _stepDevice = trainer.StepDevice;
        _vectors = trainer.TakeVectors();
        _out = context.Out;
        _taskNames = context.Problem.TaskNames;
    }

    public override unsafe void Merge(TensorGroup group, Tensor merged)
    {
        var tv = _vectors ?? throw new InvalidOperationException("adamerging: Prepare was not run");
        if (tv.Names[group.Index] != group.Name) throw new InvalidOperationException($"adamerging: tensor {group.Index} is '{group.Name}', trained '{tv.Names[group.Index]}'");
        var outputs = new Tensor[tv.Names.Count];
        outputs[group.Index] = merged;
        ThetaWriter.Run(tv, tv.SlicesOf(group.Index), _clamped, outputs);
    }

    public override void Finish()
    {
        _vectors?.Dispose();
        _vectors = null;
        if (_out is not null) AdaMergingRun.Forget(_out);
    }

    /// <summary>Contract fields at the report's top level: `lambdas` (clamped) and `loss` per step.</summary>
    public override void WriteTopLevel(Utf8JsonWriter w)
    {
        if (_layout is null) return;
        int k = _layout.TaskCount;
        w.WriteStartObject("lambdas");
        w.WriteString("granularity", _layout.Granularity == Granularity.Task ? "task" : "layer");
        w.WriteStartArray("params");
        if (_layout.Granularity == Granularity.Task) w.WriteStringValue("*");
        else foreach (string n in _layout.Tensors) w.WriteStringValue(n);
        w.WriteEndArray();
        w.WriteStartArray("tasks");
        foreach (string t in _taskNames) w.WriteStringValue(t);
        w.WriteEndArray();
        w.WriteStartArray("values");
        int rows = _layout.Granularity == Granularity.Task ? 1 : _layout.Tensors.Count;
        for (int l = 0; l < rows; l++)
        {
            w.WriteStartArray();
            for (int t = 0; t < k; t++) w.WriteNumberValue(CoefficientLayout.Clamp(_raw[_layout.Index(l, t)]));
            w.WriteEndArray();
        }
        w.WriteEndArray();
        w.WriteEndObject();
        w.WriteStartArray("loss");
        foreach (double l in _losses) w.WriteNumberValue(l);
        w.WriteEndArray();
    }

    public override void WriteReport(Utf8JsonWriter w)
    {
        w.WriteNumber("steps", _losses.Length);
        if (_losses.Length > 0)
        {
            w.WriteNumber("first_loss", _losses[0]);
            w.WriteNumber("last_loss", _losses[^1]);
        }
        w.WriteString("objective", options.Objective == Objective.InformationMaximisation ? "im" : "entropy");
        w.WriteString("step_kernels", _stepDevice is null ? "host" : "ilgpu " + _stepDevice);
        w.WriteStartArray("diagnostics");
        foreach (var measurement in _watch?.History ?? []) DiagnosticsJson.Write(w, measurement);
        w.WriteEndArray();
        w.WriteStartArray("warnings");
        foreach (string warning in _watch?.Warnings ?? []) w.WriteStringValue(warning);
        w.WriteEndArray();
    }

    private IReadOnlyList<string> _taskNames = [];
    private string? _stepDevice;
    private CollapseWatch? _watch;
}

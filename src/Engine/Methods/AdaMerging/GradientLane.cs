using Amalgam.Engine.Autodiff;
using Amalgam.Kernels;
using Amalgam.OnnxIO.Onnx;
using Amalgam.OnnxIO.Runtime;

namespace Amalgam.Engine.Methods.AdaMerging;

/// <summary>
/// What one worker of a step needs to run any (task, batch) gradient evaluation on its own: a
/// gradient session per task (its own batch input buffers and ONNX Runtime state) and one set of
/// gradient buffers that all its sessions write (it runs them in turn). Every lane's sessions read
/// the same theta(lambda) buffers, which nothing writes while the runs are under way.
/// </summary>
internal sealed class GradientLane : IDisposable
{
    private readonly List<IDisposable> _owned;

    private GradientLane(GradientSession[] sessions, Tensor[] gradients, List<IDisposable> owned)
    {
        Sessions = sessions;
        Gradients = gradients;
        _owned = owned;
    }

    /// <summary>Task k's session.</summary>
    public GradientSession[] Sessions { get; }

    /// <summary>dLoss/dtheta of the lane's last run, per shared tensor (in <see cref="TaskVectorStore.Names"/> order).</summary>
    public Tensor[] Gradients { get; }

    /// <param name="models">Task k's model (its private head stays baked in).</param>
    /// <param name="requests">Task k's gradient request (shared tensor names, batch shapes, loss).</param>
    /// <param name="theta">The shared theta(lambda) buffers, in <paramref name="names"/> order.</param>
    /// <param name="deviceGradients">The lane's gradient buffers when they live on a device (<see cref="DeviceStep.LaneGradients"/>, owned there); else allocated here.</param>
    public static GradientLane Create(IReadOnlyList<OnnxModel> models, IReadOnlyList<GradientRequest> requests, SessionSettings options,
        IReadOnlyList<string> names, IReadOnlyList<Tensor> theta, Tensor[]? deviceGradients = null)
    {
        var owned = new List<IDisposable>();
        try
        {
            var gradients = deviceGradients ?? names.Select((name, i) =>
                Owned.Add(owned, Tensor.Allocate(GradientGraph.GradientName(name), DType.F32, theta[i].Shape, zero: false))).ToArray();
            var thetaByName = names.Select((n, i) => (n, i)).ToDictionary(p => p.n, p => theta[p.i], StringComparer.Ordinal);
            var gradByName = names.Select((n, i) => (n, i)).ToDictionary(p => p.n, p => gradients[p.i], StringComparer.Ordinal);
            var sessions = new GradientSession[models.Count];
            for (int k = 0; k < models.Count; k++)
            {
                sessions[k] = GradientSession.Create(models[k], requests[k], options, thetaByName, gradients: gradByName);
                owned.Add(sessions[k]);
            }
            return new GradientLane(sessions, gradients, owned);
        }
        catch
        {
            Owned.DisposeAll(owned);
            throw;
        }
    }

    public void Dispose()
    {
        Owned.DisposeAll(_owned);
        _owned.Clear();
    }
}

using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;
using System.Text.Json;
using System.Text.RegularExpressions;

namespace Amalgam.Cli.Tests.Commands;

/// <summary>
/// A real SIGINT to the `amalgam` executable during `merge --method adamerging`: the process saves
/// its state, prints the one-line resume hint and exits 130 without writing an output; the same
/// command with a raised step budget then resumes from that state and finishes.
/// </summary>
[NonParallelizable]
public partial class AdaMergingInterruptTests
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(60);
    private static string Dir => Fixtures.File("adamerging");

    private static string[] Args(string @out, string report, long steps) =>
    [
        "merge", "--method", "adamerging", "--base", Path.Combine(Dir, "base.onnx"),
        .. Enumerable.Range(1, 3).SelectMany(k => new[] { "--model", Path.Combine(Dir, $"task_{k}.onnx") }),
        .. Enumerable.Range(1, 3).SelectMany(k => new[] { "--data", Path.Combine(Dir, $"data_{k}.npy") }),
        "--private", @"^head\.", "--out", @out, "--report", report,
        "--set", $"steps={steps.ToString(CultureInfo.InvariantCulture)}", "--set", "checkpoint_every=0", "--set", "batch_size=8",
    ];

    [DllImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static extern int Kill(int pid, int signal);

    private const int SigInt = 2;

    [GeneratedRegex(@"^amalgam: \d+% step (\d+)/")]
    private static partial Regex ProgressLine();

    [GeneratedRegex(@"^amalgam: interrupted at step (\d+); state saved to (.+); run the same command to resume$")]
    private static partial Regex InterruptedLine();

    [Test]
    public void SigintSavesStateExits130AndTheSameCommandResumes()
    {
        if (!OperatingSystem.IsLinux()) Assert.Ignore("sends SIGINT with kill(2); Linux only");
        using var dir = Fixtures.NewTempDir();
        string merged = dir.File("merged"), report = dir.File("r.json"), state = merged + ".adamerging-state.json";

        // 1. A run far too long to finish; interrupt it once it reports a step.
        var lines = new List<string>();
        using var stepSeen = new ManualResetEventSlim();
        using var child = Start(Args(merged, report, steps: 1_000_000), line =>
        {
            lock (lines) lines.Add(line);
            if (ProgressLine().IsMatch(line)) stepSeen.Set();
        });
        try
        {
            Assert.That(stepSeen.Wait(Patience), Is.True, () => "no progress line: " + Joined(lines));
            if (IgnoresSigint(child.Id)) Assert.Ignore("the child runs with SIGINT ignored (inherited, e.g. the tests run as a background job of a non-interactive shell)");
            Assert.That(Kill(child.Id, SigInt), Is.Zero, "kill(pid, SIGINT)");
            Assert.That(child.WaitForExit(Patience), Is.True, () => "did not exit after SIGINT: " + Joined(lines));
            child.WaitForExit(); // drains the redirected streams
        }
        finally
        {
            if (!child.HasExited) child.Kill();
        }
        string[] stderr;
        lock (lines) stderr = [.. lines];
        Assert.That(child.ExitCode, Is.EqualTo(130), () => Joined(stderr));
        // Besides progress, one line: the interruption (and the fixtures' step-0 collapse warnings, tested in AdaMergingCommandTests).
        Assert.That(stderr.Where(l => !ProgressLine().IsMatch(l) && !l.StartsWith("amalgam: warning: adamerging: task ", StringComparison.Ordinal)).ToArray(), Has.Length.EqualTo(1), () => Joined(stderr));
        var interrupted = stderr.Select(l => InterruptedLine().Match(l)).Where(m => m.Success).ToArray();
        Assert.That(interrupted, Has.Length.EqualTo(1), () => Joined(stderr));
        long step = long.Parse(interrupted[0].Groups[1].Value, CultureInfo.InvariantCulture);
        long lastReported = stderr.Select(l => ProgressLine().Match(l)).Where(m => m.Success).Max(m => long.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture));
        Assert.That(step, Is.GreaterThanOrEqualTo(lastReported).And.LessThan(1_000_000), "saved after the last reported step, long before the end");
        Assert.That(interrupted[0].Groups[2].Value, Is.EqualTo(state));

        using (var saved = JsonDocument.Parse(File.ReadAllText(state)))
        {
            Assert.That(saved.RootElement.GetProperty("step").GetInt64(), Is.EqualTo(step));
            Assert.That(saved.RootElement.GetProperty("losses").GetArrayLength(), Is.EqualTo(step));
        }
        // No output model or folder, no report, no temp file: the state is the only thing written.
        Assert.That(Directory.GetFileSystemEntries(dir.Path), Is.EqualTo(new[] { state }));

        // 2. The same command with a budget of 3 more steps resumes and finishes.
        var resumedErr = new List<string>();
        using var resumed = Start(Args(merged, report, steps: step + 3), line => { lock (resumedErr) resumedErr.Add(line); });
        try
        {
            Assert.That(resumed.WaitForExit(Patience), Is.True, "resumed run did not finish");
            resumed.WaitForExit();
        }
        finally
        {
            if (!resumed.HasExited) resumed.Kill();
        }
        Assert.That(resumed.ExitCode, Is.EqualTo(0), () => Joined(resumedErr));
        using (var r = JsonDocument.Parse(File.ReadAllText(report)))
        {
            Assert.That(r.RootElement.GetProperty("loss").GetArrayLength(), Is.EqualTo(step + 3));
            Assert.That(r.RootElement.GetProperty("results").GetProperty("steps").GetInt64(), Is.EqualTo(step + 3));
        }
        Assert.That(Directory.GetFiles(merged, "*.onnx"), Has.Length.EqualTo(3));
        Assert.That(File.Exists(state), Is.False, "state deleted after a finished merge");
        Assert.That(Directory.GetFileSystemEntries(dir.Path).Order(StringComparer.Ordinal), Is.EqualTo(new[] { merged, report }.Order(StringComparer.Ordinal)));
    }

    /// <summary>
    /// Starts the built CLI (amalgam.dll, copied next to this test assembly by the project reference)
    /// under the same dotnet host as the tests, stderr lines to <paramref name="onErrorLine"/>.
    /// </summary>
    private static Process Start(string[] args, Action<string> onErrorLine)
    {
        string dll = Path.Combine(AppContext.BaseDirectory, "amalgam.dll");
        Assert.That(File.Exists(dll), Is.True, dll);
        string host = Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } h && File.Exists(h) ? h : "dotnet";
        var info = new ProcessStartInfo(host)
        {
            RedirectStandardError = true, RedirectStandardOutput = true, RedirectStandardInput = true, UseShellExecute = false,
        };
        info.ArgumentList.Add(dll);
        foreach (string a in args) info.ArgumentList.Add(a);
        info.Environment.Remove("TERM");
        var p = new Process { StartInfo = info };
        p.ErrorDataReceived += (_, e) => { if (e.Data is not null) onErrorLine(e.Data); };
        p.OutputDataReceived += (_, _) => { };
        p.Start();
        p.BeginErrorReadLine();
        p.BeginOutputReadLine();
        return p;
    }

    /// <summary>Whether SIGINT is in the process's ignored-signal mask (/proc/PID/status SigIgn).</summary>
    private static bool IgnoresSigint(int pid)
    {
        string? line = File.ReadLines($"/proc/{pid}/status").FirstOrDefault(l => l.StartsWith("SigIgn:", StringComparison.Ordinal));
        return line is not null && (ulong.Parse(line["SigIgn:".Length..].Trim(), NumberStyles.HexNumber, CultureInfo.InvariantCulture) & (1UL << (SigInt - 1))) != 0;
    }

    private static string Joined(IEnumerable<string> lines) => string.Join("\n", lines);
}

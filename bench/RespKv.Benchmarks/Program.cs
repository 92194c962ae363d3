using BenchmarkDotNet.Running;

// Run: dotnet run -c Release --project bench/RespKv.Benchmarks -- --filter '*'
BenchmarkSwitcher.FromAssembly(typeof(RespKv.Benchmarks.CommandPipelineBenchmarks).Assembly).Run(args);

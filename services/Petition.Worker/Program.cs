using Petition.ServiceDefaults;
using Petition.Worker;

WorkerApp.Create(args).RunUntilStopped();

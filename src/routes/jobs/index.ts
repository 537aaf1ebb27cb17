import { createRouter } from "../../lib/router.ts";
import * as cancelJob from "./cancel-job.ts";
import * as createJob from "./create-job.ts";
import * as getJob from "./get-job.ts";
import * as listJobs from "./list-jobs.ts";

export const jobsRoutes = createRouter()
  .openapi(createJob.route, createJob.handler)
  .openapi(listJobs.route, listJobs.handler)
  .openapi(getJob.route, getJob.handler)
  .openapi(cancelJob.route, cancelJob.handler);
